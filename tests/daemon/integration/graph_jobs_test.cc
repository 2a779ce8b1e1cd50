// Training graphs through a real petaboxd: a zoo model exported as a graph (same seed)
// trains to the zoo job's accuracy, through the gRPC API and through `petabox export` +
// `petabox submit`; bad graphs are refused at submit time with the node at fault; a graph
// larger than gRPC's usual 64 MiB (ResNet-50 with its weights is 102 MB) is accepted and
// trains, and one over limits.max_graph_bytes is refused naming the key.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "daemon/graph/graph_proto.h"
#include "devices/cpu/trace_device.h"
#include "engine/nn/data_parallel.h"
#include "engine/nn/graph_model.h"
#include "engine/nn/layers.h"
#include "engine/nn/models.h"
#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

using v1::Job;

// A classifier of 1x28x28 images as a serialized graph, exported from the tracing device.
std::string Serialized(nn::Module& m) {
  EXPECT_TRUE(nn::MoveToDevice(m, TraceDevice::kName).ok());
  auto g = nn::ExportClassifier(m, {1, 28, 28});
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? graph::SerializeGraph(*g) : "";
}

// The zoo model a job with `seed` starts from, as a graph (what `petabox export` writes).
std::string ExportedGraph(const std::string& model, uint64_t seed) {
  Rng rng(seed);
  auto m = nn::MakeModel(model, rng);
  EXPECT_TRUE(m.ok());
  return m.ok() ? Serialized(**m) : "";
}

std::string Spec(const DaemonHarness& daemon, const std::string& model, int steps) {
  std::string spec = ShortJobSpec(daemon.dataset_dir(), steps, 0, model == "graph" ? "graph: model.pbgraph\n" : "");
  const size_t at = spec.find("model: mlp");
  return spec.replace(at, 10, "model: " + model);
}

grpc::Status Create(DaemonHarness& daemon, const std::string& spec, const std::string& graph, Job* out) {
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml(spec);
  request.mutable_job()->set_graph(graph);
  return daemon.jobs().CreateJob(daemon.Context().get(), request, out);
}

v1::JobResult RunToEnd(DaemonHarness& daemon, const std::string& spec, const std::string& graph) {
  Job job;
  grpc::Status s = Create(daemon, spec, graph, &job);
  EXPECT_TRUE(s.ok()) << s.error_message();
  Job done = daemon.WaitFor(job.name(), [](const Job& j) { return j.state() >= Job::CANCELLED; },
                            std::chrono::seconds(600));
  EXPECT_EQ(done.state(), Job::SUCCEEDED) << done.failure_reason();
  return done.result();
}

// The MLP only: graph models of convolutional nets train alike (the round trips in
// tests/engine/graph_ir check them) but compile many kernels on a cold cache.
TEST(GraphJobsTest, GraphJobReachesTheZooModelsAccuracy) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const int steps = 60;
  const v1::JobResult zoo = RunToEnd(daemon, Spec(daemon, "mlp", steps), "");
  const v1::JobResult graph = RunToEnd(daemon, Spec(daemon, "graph", steps), ExportedGraph("mlp", 7));
  EXPECT_EQ(graph.steps(), steps);
  // Same initial weights (seed 7), same data order: the same training up to float rounding
  // (the graph is device-neutral; the zoo model uses the CPU's own layouts).
  EXPECT_NEAR(graph.test_accuracy(), zoo.test_accuracy(), 0.01);
  EXPECT_NEAR(graph.final_loss(), zoo.final_loss(), 1e-3 * std::max(1.0, zoo.final_loss()));
  EXPECT_GT(graph.test_accuracy(), 0.2);
}

TEST(GraphJobsTest, BadGraphsAreRefusedAtSubmit) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  Job job;
  grpc::Status missing = Create(daemon, Spec(daemon, "graph", 5), "", &job);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(missing.error_message().find("no graph was sent"), std::string::npos) << missing.error_message();
  grpc::Status stray = Create(daemon, Spec(daemon, "mlp", 5), ExportedGraph("mlp", 1), &job);
  EXPECT_EQ(stray.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(stray.error_message().find("use model: graph"), std::string::npos) << stray.error_message();
  v1::Graph g;
  ASSERT_TRUE(g.ParseFromString(ExportedGraph("mlp", 1)));
  g.mutable_nodes(5)->set_srcs(0, 4000000);
  grpc::Status dangling = Create(daemon, Spec(daemon, "graph", 5), g.SerializeAsString(), &job);
  EXPECT_EQ(dangling.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(dangling.error_message().find("graph node 5"), std::string::npos) << dangling.error_message();
  EXPECT_NE(dangling.error_message().find("dangling reference"), std::string::npos) << dangling.error_message();
  grpc::Status garbage = Create(daemon, Spec(daemon, "graph", 5), "not a graph", &job);
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// An MLP with 784 x 25600 + 25600 x 10 weights: an 81 MB graph.
std::string LargeGraph() {
  Rng rng(3);
  nn::Sequential m;
  m.Emplace<nn::Flatten>();
  m.Emplace<nn::Linear>(784, 25600, rng);
  m.Emplace<nn::ReLU>();
  m.Emplace<nn::Linear>(25600, 10, rng);
  return Serialized(m);
}

TEST(GraphJobsTest, GraphsLargerThan64MiBTrain) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string big = LargeGraph();
  ASSERT_GT(big.size(), size_t{64} << 20);
  const v1::JobResult result = RunToEnd(daemon, Spec(daemon, "graph", 3), big);
  EXPECT_EQ(result.steps(), 3);
  EXPECT_TRUE(std::isfinite(result.final_loss()));
}

TEST(GraphJobsTest, GraphOverTheConfiguredLimitIsRefused) {
  DaemonHarness daemon("devices: [CPU:0]\nlimits: {max_graph_bytes: 100000}\n");
  daemon.Start();
  Job job;
  grpc::Status s = Create(daemon, Spec(daemon, "graph", 5), ExportedGraph("mlp", 1), &job);  // 1.6 MB
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("at most 100000 (config limits.max_graph_bytes)"), std::string::npos)
      << s.error_message();
  // The daemon goes on: a job without a graph still runs.
  RunToEnd(daemon, Spec(daemon, "mlp", 2), "");
}

struct CliResult {
  int code = -1;
  std::string out;
};

CliResult Cli(const std::string& args) {
  CliResult r;
  FILE* pipe = ::popen((std::string(PETABOX_CLI_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(GraphJobsTest, CliExportsAndSubmitsAGraph) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string dir = daemon.data_dir() + "/..";
  CliResult exported = Cli("export --model mlp --seed 7 -o " + dir + "/model.pbgraph");
  ASSERT_EQ(exported.code, 0) << exported.out;
  EXPECT_NE(exported.out.find("4 parameters (407050 values)"), std::string::npos) << exported.out;
  std::ofstream(dir + "/graph-spec.yaml") << Spec(daemon, "graph", 20);  // graph: model.pbgraph, beside it
  CliResult submit = Cli("--server " + daemon.address() + " --token " + daemon.token() + " submit --watch " + dir +
                         "/graph-spec.yaml");
  EXPECT_EQ(submit.code, 0) << submit.out;
  EXPECT_NE(submit.out.find("SUCCEEDED"), std::string::npos) << submit.out;
  // A spec naming a graph file that is not there is a usage error, before any upload.
  std::string missing_spec = Spec(daemon, "graph", 20);
  missing_spec.replace(missing_spec.find("model.pbgraph"), 13, "nothere.pbgraph");
  std::ofstream(dir + "/missing-spec.yaml") << missing_spec;
  CliResult missing = Cli("--server " + daemon.address() + " --token " + daemon.token() + " submit " + dir +
                          "/missing-spec.yaml");
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("nothere.pbgraph"), std::string::npos) << missing.out;
  CliResult unknown = Cli("export --model resnet9000 -o " + dir + "/x.pbgraph");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("known models"), std::string::npos) << unknown.out;
}

// An ONNX CNN exported by PyTorch (tests/daemon/graph/onnx_export_models.py; needs
// python3-torch and python3-onnx) trains on petaboxd: `petabox submit` imports it.
TEST(GraphJobsTest, CliSubmitsAnOnnxModel) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string dir = daemon.data_dir() + "/..";
  const std::string export_cmd = std::string("/usr/bin/python3 ") + PETABOX_SOURCE_DIR +
                                 "/tests/daemon/graph/onnx_export_models.py " + dir + " > " + dir + "/export.log 2>&1";
  ASSERT_EQ(std::system(export_cmd.c_str()), 0) << "PyTorch export failed (python3-torch, python3-onnx); see "
                                                << dir << "/export.log";
  std::string spec = Spec(daemon, "graph", 12);
  spec.replace(spec.find("model.pbgraph"), 13, "cnn.onnx");
  spec.replace(spec.find("lr: 0.05"), 8, "lr: 0.02");
  std::ofstream(dir + "/onnx-spec.yaml") << spec;
  CliResult submit = Cli("--server " + daemon.address() + " --token " + daemon.token() + " submit --watch " +
                         dir + "/onnx-spec.yaml");
  EXPECT_EQ(submit.code, 0) << submit.out;
  EXPECT_NE(submit.out.find("SUCCEEDED"), std::string::npos) << submit.out;
  std::string unsupported_spec = Spec(daemon, "graph", 5);
  unsupported_spec.replace(unsupported_spec.find("model.pbgraph"), 13, "cumsum.onnx");
  std::ofstream(dir + "/cumsum-spec.yaml") << unsupported_spec;
  CliResult unsupported = Cli("--server " + daemon.address() + " --token " + daemon.token() + " submit " + dir +
                              "/cumsum-spec.yaml");
  EXPECT_EQ(unsupported.code, 2) << unsupported.out;
  EXPECT_NE(unsupported.out.find("operator CumSum is not supported"), std::string::npos) << unsupported.out;
}

}  // namespace
}  // namespace petabox::daemon::testing
