// `petabox onnx check` (client/cli/commands_onnx.cc): one JSON line on stdout and the exit
// code of the verdict (0 pass, 2 refused). The checking itself is tested in
// tests/daemon/graph/onnx_check_test.cc. Needs /usr/bin/python3 with onnx to write the model
// (deploy/install-deps.sh): fails, not skips, without it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace petabox::cli {
namespace {

namespace fs = std::filesystem;

struct CliOutput {
  int exit_code = -1;
  std::string out;
};

CliOutput Petabox(const std::string& args) {
  CliOutput run;
  FILE* pipe = popen(("timeout 60 " + std::string(PETABOX_CLI_BINARY) + " " + args + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class OnnxCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("petabox-onnx-cli-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OnnxCommandTest, RandomInputsPass) {
  const std::string model = (dir_ / "relu.onnx").string();
  const std::string script =
      "import onnx; from onnx import helper as h, TensorProto as T; "
      "g = h.make_graph([h.make_node('Relu', ['x'], ['y'])], 'g', "
      "[h.make_tensor_value_info('x', T.FLOAT, ['N', 3])], [h.make_tensor_value_info('y', T.FLOAT, ['N', 3])]); "
      "onnx.save(h.make_model(g), '" + model + "')";
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()), 0) << "needs python3-onnx";
  const CliOutput run = Petabox("onnx check " + model + " --seed 3");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("\"result\":\"pass\",\"compared\":false"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << "one line: " << run.out;
}

TEST_F(OnnxCommandTest, GarbageIsRefused) {
  const std::string model = (dir_ / "garbage.onnx").string();
  std::ofstream(model) << "\x08\xff\xff\xff\xff this is not a model";
  const CliOutput run = Petabox("onnx check " + model);
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_NE(run.out.find("\"result\":\"refused\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("not an ONNX model"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace petabox::cli
