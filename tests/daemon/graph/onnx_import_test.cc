// ONNX import against PyTorch: a CNN exported by Debian's python3-torch (tests/daemon/graph/
// onnx_export_models.py) imports into a graph whose evaluation-mode output matches
// PyTorch's on the same input, at a batch size the import did not trace; the graph trains
// (its BatchNorm statistics become state); an unsupported operator is named.
//
// Needs /usr/bin/python3 with torch and onnx (deploy/install-deps.sh installs
// python3-torch and python3-onnx): the test fails, not skips, without them.
#include "daemon/graph/onnx_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "engine/nn/graph_model.h"
#include "engine/nn/optim/sgd.h"
#include "engine/nn/train_step.h"

namespace petabox::graph {
namespace {

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> v;
  float x;
  while (in.read(reinterpret_cast<char*>(&x), sizeof(x))) v.push_back(x);
  return v;
}

// Exports the models once per test binary run.
const std::string& ExportDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(std::filesystem::temp_directory_path() / ("petabox-onnx-" + std::to_string(getpid())));
    const std::string cmd = std::string("/usr/bin/python3 ") + PETABOX_SOURCE_DIR +
                            "/tests/daemon/graph/onnx_export_models.py " + *d + " > " + *d + ".log 2>&1";
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << "exporting the PyTorch models failed (needs python3-torch and python3-onnx: "
                        "deploy/install-deps.sh); see "
                     << *d << ".log";
    return d;
  }();
  return *dir;
}

TEST(OnnxImportTest, PytorchCnnMatchesPytorchsOutput) {
  const std::string dir = ExportDir();
  StatusOr<GraphIr> g = ImportOnnxFile(dir + "/cnn.onnx");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->state.size(), 2u);  // bn.running_mean, bn.running_var
  ASSERT_GE(g->inputs.size(), 1u);
  EXPECT_EQ(g->inputs[0].sample_shape, (std::vector<int64_t>{1, 28, 28}));
  Rng unused(0);
  auto model = nn::GraphModel::Create(std::make_shared<const GraphIr>(std::move(g).value()), unused, "CPU:0");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::vector<float> input = ReadFloats(dir + "/cnn_input.bin"), want = ReadFloats(dir + "/cnn_output.bin");
  ASSERT_EQ(input.size(), 5u * 28 * 28);
  ASSERT_EQ(want.size(), 5u * 10);
  (*model)->Eval();
  Tensor logits = (**model)(Tensor::FromVector(input, {5, 1, 28, 28}, DType::kFloat32, "CPU:0"));
  StatusOr<std::vector<float>> got = logits.ToFloats();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), want.size());
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(double((*got)[i]) - want[i]));
  EXPECT_LT(worst, 1e-4) << "largest difference from PyTorch's output";
}

TEST(OnnxImportTest, ImportedCnnTrains) {
  StatusOr<GraphIr> g = ImportOnnxFile(ExportDir() + "/cnn.onnx");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Rng rng(1);
  auto model = nn::GraphModel::Create(std::make_shared<const GraphIr>(std::move(g).value()), rng, "CPU:0");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> labels = {0, 1, 2, 3, 4, 5, 6, 7};
  Tensor x = Tensor::Randn({8, 1, 28, 28}, rng, DType::kFloat32, "CPU:0");
  Tensor y = Tensor::FromVector(labels, {8}, DType::kInt32, "CPU:0");
  auto mean_before = (*model)->NamedState().back().second->ToFloats();
  // The worker's training step (TrainStep: the graph's loss, autograd, SGD), on one batch.
  nn::Sgd sgd((*model)->NamedParameters(), nn::SgdOptions{.lr = 0.05});
  nn::TrainStep step(**model, sgd);
  double first = 0, last = 0;
  for (int i = 0; i < 12; ++i) {
    StatusOr<double> loss = step.Run(x, y, i);
    ASSERT_TRUE(loss.ok()) << loss.status().ToString();
    (i == 0 ? first : last) = *loss;
  }
  EXPECT_TRUE(step.captured());  // replayed through the JIT
  EXPECT_LT(last, first * 0.7) << "loss " << first << " -> " << last;
  auto mean_after = (*model)->NamedState().back().second->ToFloats();
  ASSERT_TRUE(mean_before.ok() && mean_after.ok());
  EXPECT_NE(*mean_before, *mean_after) << "the BatchNorm running statistics were not updated";
}

TEST(OnnxImportTest, UnsupportedOperatorIsNamed) {
  StatusOr<GraphIr> g = ImportOnnxFile(ExportDir() + "/cumsum.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find("operator CumSum is not supported"), std::string::npos) << g.status().message();
  EXPECT_NE(ImportOnnx("definitely not onnx").status().message().find("not an ONNX model"), std::string::npos);
}

}  // namespace
}  // namespace petabox::graph
