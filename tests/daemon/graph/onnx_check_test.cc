// The ONNX runner (daemon/graph/onnx_check.h) and the evaluation import under it
// (onnx_evaluate.h): a model with two inputs and two outputs of any shape (which the
// training import refuses) passes against NumPy's outputs, a data set with a wrong value
// fails, a model without data runs on random inputs, and malformed or hostile files are
// refused with a message. The models come from tests/daemon/graph/onnx_check_models.py.
//
// Needs /usr/bin/python3 with onnx and numpy (deploy/install-deps.sh): fails, not skips,
// without them.
#include "daemon/graph/onnx_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "daemon/graph/onnx_evaluate.h"
#include "daemon/graph/onnx_import.h"

namespace petabox::graph {
namespace {

const std::string& ModelDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(std::filesystem::temp_directory_path() / ("petabox-onnx-check-" + std::to_string(getpid())));
    const std::string cmd = std::string("/usr/bin/python3 ") + PETABOX_SOURCE_DIR +
                            "/tests/daemon/graph/onnx_check_models.py " + *d + " > " + *d + ".log 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "writing the ONNX models failed (needs python3-onnx); see " << *d << ".log";
    return d;
  }();
  return *dir;
}

TEST(OnnxCheckTest, SeveralInputsAndOutputsMatchNumpy) {
  OnnxCheckOptions options;
  options.data_dir = ModelDir() + "/two/test_data_set_0";
  const OnnxCheckResult r = CheckOnnxModel(ModelDir() + "/two/model.onnx", options);
  EXPECT_EQ(r.verdict, OnnxVerdict::kPass) << OnnxCheckJson(r);
  EXPECT_TRUE(r.compared);
  EXPECT_LT(r.max_abs_error, 1e-5);
  EXPECT_NE(OnnxCheckJson(r).find("\"result\":\"pass\""), std::string::npos) << OnnxCheckJson(r);
}

TEST(OnnxCheckTest, TrainingImportKeepsItsOneInputContract) {
  StatusOr<GraphIr> g = ImportOnnxFile(ModelDir() + "/two/model.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("several inputs"), std::string::npos) << g.status().message();
}

TEST(OnnxCheckTest, WrongExpectedValueFails) {
  OnnxCheckOptions options;
  options.data_dir = ModelDir() + "/two/bad_set";
  const OnnxCheckResult r = CheckOnnxModel(ModelDir() + "/two/model.onnx", options);
  EXPECT_EQ(r.verdict, OnnxVerdict::kFail) << OnnxCheckJson(r);
  EXPECT_NEAR(r.max_abs_error, 0.01, 1e-4);
  EXPECT_NE(r.message.find("output 's'"), std::string::npos) << r.message;
}

TEST(OnnxCheckTest, WithoutDataRunsOnRandomInputs) {
  const OnnxCheckResult r = CheckOnnxModel(ModelDir() + "/two/model.onnx", {});
  EXPECT_EQ(r.verdict, OnnxVerdict::kPass) << OnnxCheckJson(r);
  EXPECT_FALSE(r.compared);
  EXPECT_NE(OnnxCheckJson(r).find("\"max_abs_error\":null"), std::string::npos) << OnnxCheckJson(r);
}

TEST(OnnxCheckTest, EvaluatorDeclaresInputsAndOutputs) {
  std::ifstream in(ModelDir() + "/two/model.onnx", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto e = OnnxEvaluator::Create(bytes, "CPU:0");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ((*e)->inputs().size(), 2u);
  EXPECT_EQ((*e)->inputs()[1].shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ((*e)->outputs().size(), 2u);
  EXPECT_EQ((*e)->outputs()[1].name, "r");
  auto out = (*e)->Evaluate({Tensor::Ones({2, 3, 4}, DType::kFloat32, "CPU:0")});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("takes 2 inputs, 1 given"), std::string::npos) << out.status().message();
}

TEST(OnnxCheckTest, HostileFilesAreRefusedWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hostile_truncated.onnx", "not an ONNX model"},
      {"hostile_garbage.onnx", "not an ONNX model"},
      {"hostile_huge_initializer.onnx", "too large"},
      {"hostile_short_initializer.onnx", "5 bytes of data for 4 values"},
      {"hostile_dangling.onnx", "'nowhere' is not defined"},
      {"hostile_big_input.onnx", "too large to fill"},
      {"no_such_file.onnx", "cannot be opened"},
  };
  for (const auto& [file, why] : cases) {
    const OnnxCheckResult r = CheckOnnxModel(ModelDir() + "/" + file, {});
    EXPECT_EQ(r.verdict, OnnxVerdict::kRefused) << file << ": " << OnnxCheckJson(r);
    EXPECT_NE(r.message.find(why), std::string::npos) << file << ": " << r.message;
  }
}

}  // namespace
}  // namespace petabox::graph
