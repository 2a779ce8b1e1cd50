// The client library's graph calls: capture tensors built on TRACE:0 into a file, export a
// zoo model initialised as a job with the same seed is, and send a graph with a job.
#include "client/lib/graph_export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "daemon/graph/graph_proto.h"
#include "devices/cpu/trace_device.h"
#include "engine/nn/models.h"
#include "tests/client/fake_daemon.h"

namespace petabox::client {
namespace {

TEST(GraphExport, CapturesTensorsIntoAFile) {
  Tensor w = Tensor::FromVector({0.5f, -1.0f}, {2}, DType::kFloat32, TraceDevice::kName);
  ASSERT_TRUE(w.Realize().ok());
  graph::CaptureSpec spec;
  spec.inputs = {{"input", {2}, DType::kFloat32}};
  spec.parameters = {{"w", w}};
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    Tensor y = in[0].Mul(w).Sum({1});  // (N,)
    return graph::NamedTensors{{"loss", y.Mul(y).Mean()}};
  };
  const std::string path = std::filesystem::temp_directory_path() / ("capture-" + std::to_string(getpid()) + ".pbgraph");
  ASSERT_TRUE(ExportGraph(spec, path).ok());
  StatusOr<graph::GraphIr> g = graph::ReadGraphFile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->parameters.size(), 1u);
  EXPECT_EQ(g->parameters[0].name, "w");
  EXPECT_EQ(g->inputs[0].sample_shape, std::vector<int64_t>{2});
  // A parameter on another device than the tracing device is refused.
  spec.parameters = {{"w", Tensor::FromVector({1, 2}, {2}, DType::kFloat32, "CPU:0")}};
  Status s = ExportGraph(spec, path);
  EXPECT_NE(s.message().find("parameter 'w' is on CPU:0, not on TRACE:0"), std::string::npos) << s.message();
}

TEST(GraphExport, ZooModelStartsFromTheJobsSeed) {
  StatusOr<graph::GraphIr> g = ExportZooModel("mlp", 7, {1, 28, 28});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Rng rng(7);
  auto model = nn::MakeModel("mlp", rng);
  ASSERT_TRUE(model.ok());
  auto [name, weight] = (*model)->NamedParameters()[0];
  EXPECT_EQ(g->parameters[0].name, name);
  StatusOr<std::vector<float>> want = weight->ToFloats();
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(g->parameters[0].data.size(), want->size() * 4);
  EXPECT_EQ(std::memcmp(g->parameters[0].data.data(), want->data(), g->parameters[0].data.size()), 0);
  EXPECT_FALSE(ExportZooModel("resnet9000", 0, {1, 28, 28}).ok());
}

TEST(GraphExport, SubmitSendsTheGraphWithTheJob) {
  testing::FakeDaemon daemon;
  ConnectionOptions options;
  options.server = daemon.address();
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  StatusOr<graph::GraphIr> g = ExportZooModel("mlp", 1, {1, 28, 28});
  ASSERT_TRUE(g.ok());
  StatusOr<v1::Job> job = SubmitGraphJob(**connection, "model: graph\ngraph: mlp.pbgraph\n", *g, "req-1");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->spec_yaml(), "model: graph\ngraph: mlp.pbgraph\n");
  StatusOr<graph::GraphIr> sent = graph::ParseGraph(job->graph());  // the fake echoes the job it got
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->nodes.size(), g->nodes.size());
  EXPECT_EQ(daemon.record().request_ids, std::vector<std::string>{"req-1"});
}

}  // namespace
}  // namespace petabox::client
