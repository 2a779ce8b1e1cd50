// Export -> import round trips: a zoo model captured as a graph on the tracing device and
// rebuilt as a GraphModel computes the same loss, gradients, logits and BatchNorm running
// statistics as the model itself, at batch sizes it was not traced at.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "devices/cpu/trace_device.h"
#include "engine/autograd.h"
#include "engine/graph_ir/capture.h"
#include "engine/graph_ir/resolve.h"
#include "engine/nn/data_parallel.h"
#include "engine/nn/graph_model.h"
#include "engine/nn/models.h"
#include "engine/nn/optim/sgd.h"
#include "tests/engine/nn/nn_test_util.h"

namespace petabox::nn {
namespace {

using nntest::ExpectNear;
using nntest::Host;

constexpr char kTrace[] = "TRACE:0";

std::unique_ptr<Module> ZooModel(const std::string& name, uint64_t seed) {
  Rng rng(seed);
  StatusOr<std::unique_ptr<Module>> m = MakeModel(name, rng);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return nullptr;
  Status s = MoveToDevice(**m, kTrace);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::move(m).value();
}

struct Batch {
  Tensor x, y;
};

Batch RandomBatch(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(static_cast<float>(rng.NextU64() % 10));
  return {Tensor::Randn({n, 1, 28, 28}, rng, DType::kFloat32, kTrace),
          Tensor::FromVector(labels, {n}, DType::kInt32, kTrace)};
}

// Loss and gradients of `m` on the batch (the gradients are cleared afterwards).
std::vector<std::vector<double>> LossAndGradients(Module& m, const Batch& b) {
  m.Train();
  Tensor loss = m.TrainingLoss(b.x, b.y, 0);
  EXPECT_TRUE(loss.ok()) << loss.status().ToString();
  std::vector<Tensor> params;
  for (auto& [name, p] : m.NamedParameters()) params.push_back(*p);
  StatusOr<std::vector<Tensor>> grads = Gradients(loss, params);
  EXPECT_TRUE(grads.ok()) << grads.status().ToString();
  std::vector<std::vector<double>> out = {Host(loss)};
  if (grads.ok())
    for (const Tensor& g : *grads) out.push_back(Host(g));
  return out;
}

std::vector<double> EvalLogits(Module& m, const Batch& b) {
  m.Eval();
  Tensor logits = m(b.x);
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  m.Train();
  return Host(logits);
}

class GraphRoundTripTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GraphRoundTripTest, ExportedGraphMatchesModel) {
  const std::string name = GetParam();
  std::unique_ptr<Module> model = ZooModel(name, 7);
  ASSERT_NE(model, nullptr);
  StatusOr<graph::GraphIr> g = ExportClassifier(*model, {1, 28, 28});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->parameters.size(), model->NamedParameters().size());
  Rng unused(0);
  auto ir = std::make_shared<const graph::GraphIr>(std::move(g).value());
  StatusOr<std::unique_ptr<GraphModel>> imported = GraphModel::Create(ir, unused, kTrace);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  // Names and values of every parameter and state tensor carry over (parameters first,
  // then state, each in the model's order).
  std::map<std::string, Tensor*> want, got;
  for (auto& [n, t] : model->NamedState()) want[n] = t;
  for (auto& [n, t] : (*imported)->NamedState()) got[n] = t;
  ASSERT_EQ(got.size(), want.size());
  for (auto& [n, t] : want) {
    ASSERT_TRUE(got.count(n)) << n;
    EXPECT_EQ(Host(*got[n]), Host(*t)) << n;
  }
  // Batch sizes the capture did not trace (and a batch of 1 for evaluation below).
  for (int64_t n : {3, 4}) {
    Batch b = RandomBatch(n, 100 + n);
    std::vector<std::vector<double>> a = LossAndGradients(*model, b), c = LossAndGradients(**imported, b);
    ASSERT_EQ(a.size(), c.size());
    for (size_t i = 0; i < a.size(); ++i)
      ExpectNear(c[i], a[i], 1e-6, 1e-5, name + (i ? " gradient " + std::to_string(i - 1) : " loss"));
    ExpectNear(EvalLogits(**imported, b), EvalLogits(*model, b), 1e-6, 1e-5, name + " eval logits");
  }
  // The running statistics were updated alike by the training forwards.
  for (auto& [n, t] : want) ExpectNear(Host(*got[n]), Host(*t), 1e-6, 1e-5, n + " after training");
  ExpectNear(EvalLogits(**imported, RandomBatch(1, 9)), EvalLogits(*model, RandomBatch(1, 9)), 1e-6, 1e-5,
             name + " batch of 1");
}

INSTANTIATE_TEST_SUITE_P(Zoo, GraphRoundTripTest, ::testing::Values("mlp", "cnn", "resnet8"));

// ResNet-50 (25.6M parameters) exports with a symbolic batch: the graph has every
// parameter, and resolves at batch 256 to (256, 1000) logits. (Not run: too slow on a CPU.)
TEST(GraphExportTest, ResNet50) {
  std::unique_ptr<Module> model = ZooModel("resnet50", 1);
  ASSERT_NE(model, nullptr);
  StatusOr<std::vector<int64_t>> sample = ModelSampleShape("resnet50");
  ASSERT_TRUE(sample.ok());
  StatusOr<graph::GraphIr> g = ExportClassifier(*model, *sample);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  int64_t values = 0;
  for (const graph::IrTensor& p : g->parameters) values += Product(p.shape);
  EXPECT_EQ(values, 25557032);  // torchvision's resnet50
  EXPECT_EQ(g->state.size(), 2u * 53);  // running mean and variance of 53 BatchNorms
  StatusOr<graph::ResolvedGraph> r = graph::Resolve(*g, 256);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->nodes[g->outputs[g->FindOutput("logits")].node].shape, (Shape{256, 1000}));
}

// One graph at any device count: data-parallel training of a graph model on 2 and 3 CPU
// devices (parts of 3, or 2+2+2) equals one-device training on the global batch of 6.
TEST(GraphDataParallelTest, SameStepsOnSeveralDevices) {
  std::unique_ptr<Module> zoo = ZooModel("mlp", 11);  // no BatchNorm: per-device statistics would differ
  ASSERT_NE(zoo, nullptr);
  StatusOr<graph::GraphIr> g = ExportClassifier(*zoo, {1, 28, 28});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto ir = std::make_shared<const graph::GraphIr>(std::move(g).value());
  Rng data(5);
  std::vector<float> x(6 * 28 * 28), y = {1, 3, 5, 7, 9, 0};
  for (float& v : x) v = data.Normal();
  auto run = [&](int devices) {
    std::vector<std::unique_ptr<GraphModel>> models;
    std::vector<std::unique_ptr<Optimizer>> optimizers;
    std::vector<Module*> replicas;
    std::vector<Optimizer*> opts;
    for (int d = 0; d < devices; ++d) {
      Rng unused(0);
      auto m = GraphModel::Create(ir, unused, "CPU:" + std::to_string(d));
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      models.push_back(std::move(m).value());
      optimizers.push_back(std::make_unique<Sgd>(models.back()->NamedParameters(), SgdOptions{.lr = 0.1}));
      replicas.push_back(models.back().get());
      opts.push_back(optimizers.back().get());
    }
    auto step = DataParallelStep::Create(replicas, opts, DataParallelOptions{.use_jit = false});
    EXPECT_TRUE(step.ok()) << step.status().ToString();
    std::vector<double> losses;
    for (int i = 0; i < 2; ++i) {
      std::vector<Tensor> images, labels;
      int64_t first = 0;
      for (int d = 0; d < devices; ++d) {
        const int64_t n = SplitBatch(6, devices)[d];
        const std::string dev = "CPU:" + std::to_string(d);
        images.push_back(Tensor::FromVector(std::vector<float>(x.begin() + first * 784, x.begin() + (first + n) * 784),
                                            {n, 1, 28, 28}, DType::kFloat32, dev));
        labels.push_back(Tensor::FromVector(std::vector<float>(y.begin() + first, y.begin() + first + n), {n},
                                            DType::kInt32, dev));
        first += n;
      }
      StatusOr<double> loss = (*step)->Run(images, labels, i);
      EXPECT_TRUE(loss.ok()) << loss.status().ToString();
      losses.push_back(loss.ok() ? *loss : 0);
    }
    return losses;
  };
  const std::vector<double> one = run(1);
  for (int devices : {2, 3}) ExpectNear(run(devices), one, 1e-5, 1e-4, std::to_string(devices) + " devices");
}

TEST(CaptureTest, FitsBatchDependentSizesAndConstants) {
  Tensor w = Tensor::FromVector({1, 2, 3}, {3}, DType::kFloat32, kTrace);
  ASSERT_TRUE(w.Realize().ok());
  graph::CaptureSpec spec;
  spec.inputs = {{"input", {3}, DType::kFloat32}};
  spec.parameters = {{"w", w}};
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    Tensor x = in[0].Mul(w);                         // (N, 3)
    Tensor flat = x.Reshape({-1});                   // (3N)
    Tensor loss = flat.Var({0}).Add(x.Mean());       // 1/(3N-1) and 1/(3N)
    return graph::NamedTensors{{"loss", loss}, {"flat", flat}};
  };
  StatusOr<graph::GraphIr> g = graph::CaptureGraph(spec);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const graph::IrNode& flat = g->nodes[g->outputs[g->FindOutput("flat")].node];
  ASSERT_EQ(flat.shape.size(), 1u);
  EXPECT_EQ(flat.shape[0].per_sample, 3);
  EXPECT_EQ(flat.shape[0].fixed, 0);
  int batch_constants = 0;
  for (const graph::IrNode& n : g->nodes) batch_constants += n.op == Op::kConst && !n.value.IsFixed();
  EXPECT_GE(batch_constants, 2);
  // The graph at N=6 gives what the frontend gives at N=6.
  Rng unused(0);
  auto model = GraphModel::Create(std::make_shared<const graph::GraphIr>(*g), unused, kTrace);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Tensor x = Tensor::Randn({6, 3}, 3).To(kTrace);
  StatusOr<std::vector<Tensor>> out = (*model)->Outputs({"loss"}, {{"input", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Tensor want = x.Mul(w).Reshape({-1}).Var({0}).Add(x.Mul(w).Mean());
  ExpectNear(Host((*out)[0]), Host(want), 1e-6, 1e-6, "loss at N=6");
}

// A long reduction with few outputs (a wide layer into a few classes) is split in two on
// real devices, by a group count that follows the batch; traced, it stays one reduce, so
// the graph captures and gives the frontend's values at an untraced batch size.
TEST(CaptureTest, WideLayerIntoFewOutputsCaptures) {
  Tensor w = Tensor::Randn({65536, 3}, 5).To(kTrace);
  ASSERT_TRUE(w.Realize().ok());
  graph::CaptureSpec spec;
  spec.inputs = {{"input", {65536}, DType::kFloat32}};
  spec.parameters = {{"w", w}};
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    return graph::NamedTensors{{"loss", in[0].Matmul(w).Sum()}, {"logits", in[0].Matmul(w)}};
  };
  StatusOr<graph::GraphIr> g = graph::CaptureGraph(spec);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Rng unused(0);
  auto model = GraphModel::Create(std::make_shared<const graph::GraphIr>(*g), unused, kTrace);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Tensor x = Tensor::Randn({5, 65536}, 6).To(kTrace);
  StatusOr<std::vector<Tensor>> out = (*model)->Outputs({"logits"}, {{"input", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Naive product on the host.
  std::vector<double> xs = Host(x), ws = Host(w), want(5 * 3, 0.0);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 65536; ++k) want[i * 3 + j] += xs[i * 65536 + k] * ws[k * 3 + j];
  ExpectNear(Host((*out)[0]), want, 1e-3, 1e-4, "logits at N=5");
}

TEST(CaptureTest, BatchDependentStructureIsRejected) {
  Tensor w = Tensor::FromVector({1}, {1}, DType::kFloat32, kTrace);
  ASSERT_TRUE(w.Realize().ok());
  graph::CaptureSpec spec;
  spec.inputs = {{"input", {1}, DType::kFloat32}};
  spec.parameters = {{"w", w}};
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    Tensor x = in[0].Mul(w);
    if (in[0].shape()[0] > 6) x = x.Exp();  // a different graph for larger batches
    return graph::NamedTensors{{"loss", x.Sum()}};
  };
  StatusOr<graph::GraphIr> g = graph::CaptureGraph(spec);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("differs between batch sizes"), std::string::npos) << g.status().message();
}

TEST(CaptureTest, HostRandomnessIsRejected) {
  Tensor w = Tensor::FromVector({1}, {1}, DType::kFloat32, kTrace);
  ASSERT_TRUE(w.Realize().ok());
  graph::CaptureSpec spec;
  spec.inputs = {{"input", {1}, DType::kFloat32}};
  spec.parameters = {{"w", w}};
  Rng rng(1);
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    Tensor noise = Tensor::Rand({1}, rng, DType::kFloat32, kTrace);  // a fresh host draw per call
    return graph::NamedTensors{{"loss", in[0].Mul(w).Add(noise).Sum()}};
  };
  StatusOr<graph::GraphIr> g = graph::CaptureGraph(spec);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("random values"), std::string::npos) << g.status().message();
}

TEST(TraceDeviceTest, IsAHostDeviceWithItsOwnName) {
  Tensor t = Tensor::FromVector({1, 2}, {2}, DType::kFloat32, "trace");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t.device(), TraceDevice::kName);
  EXPECT_EQ(Host(t.Mul(2.0)), (std::vector<double>{2, 4}));
}

}  // namespace
}  // namespace petabox::nn
