#include "client/cli/spec_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace petabox::cli {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("petabox-spec-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(SpecFile, ReadsAMappingVerbatim) {
  const std::string text = "# comment kept\nname: x\nepochs: 2\n";
  std::string path = WriteTemp("ok.yaml", text);
  StatusOr<SpecFile> spec = ReadJobSpec(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->yaml, text);
  EXPECT_EQ(spec->spec.name, "x");
  EXPECT_EQ(spec->spec.epochs, 2);
}

// The spec is validated before it is sent, naming the key; device names are left to the
// daemon (this machine need not have them).
TEST(SpecFile, ValidatesOnceButNotTheDaemonsDevices) {
  std::string path = WriteTemp("lr.yaml", "optimizer: {lr: -1}\n");
  Status bad = ReadJobSpec(path).status();
  std::filesystem::remove(path);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("optimizer.lr: must be > 0, got -1"), std::string::npos) << bad.ToString();
  EXPECT_NE(bad.message().find(path), std::string::npos);
  path = WriteTemp("devices.yaml", "devices: [\"CUDA:7\", \"CUDA:6\"]\nglobal_batch_size: 8\n");
  StatusOr<SpecFile> remote = ReadJobSpec(path);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ(remote->spec.devices.size(), 2u);
  std::ofstream(path) << "devices: [\"CUDA:7\", \"CUDA:7\"]\n";
  Status twice = ReadJobSpec(path).status();
  std::filesystem::remove(path);
  EXPECT_NE(twice.message().find("listed twice"), std::string::npos) << twice.ToString();
}

TEST(SpecFile, GraphOnlyForModelGraph) {
  worker::JobSpec spec;
  StatusOr<std::string> none = ReadSpecGraph("/somewhere/spec.yaml", spec);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  spec.model = "graph";
  spec.graph = "missing.pbgraph";
  EXPECT_FALSE(ReadSpecGraph("/nonexistent-dir/spec.yaml", spec).ok());
}

TEST(SpecFile, Rejections) {
  EXPECT_EQ(ReadJobSpec("/nonexistent/spec.yaml").status().code(), StatusCode::kInvalidArgument);
  for (const char* text : {"name: [unclosed\n", "- a\n", ""}) {
    std::string path = WriteTemp("bad.yaml", text);
    StatusOr<SpecFile> spec = ReadJobSpec(path);
    std::filesystem::remove(path);
    EXPECT_FALSE(spec.ok()) << text;
    if (!spec.ok()) {
      EXPECT_NE(spec.status().message().find(path), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace petabox::cli
