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
  StatusOr<std::string> spec = ReadJobSpec(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(*spec, text);
}

TEST(SpecFile, Rejections) {
  EXPECT_EQ(ReadJobSpec("/nonexistent/spec.yaml").status().code(), StatusCode::kInvalidArgument);
  for (const char* text : {"name: [unclosed\n", "- a\n", ""}) {
    std::string path = WriteTemp("bad.yaml", text);
    StatusOr<std::string> spec = ReadJobSpec(path);
    std::filesystem::remove(path);
    EXPECT_FALSE(spec.ok()) << text;
    if (!spec.ok()) {
      EXPECT_NE(spec.status().message().find(path), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace petabox::cli
