// Runs hip_abi_check.cpp (hip_api.h's declarations against AMD's headers) where the HIP
// headers are installed: Debian 12's libamdhip64-dev (ROCm 5.2) in CI, or /opt/rocm.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace petabox {
namespace {

namespace fs = std::filesystem;

// The repository root (set by tests/CMakeLists.txt; __FILE__ may be relative to the build
// directory, which ctest does not run in).
fs::path SourceRoot() { return fs::path(PETABOX_SOURCE_DIR); }

// The include directory holding hip/hip_runtime_api.h and hip/hiprtc.h, or empty.
std::string HipIncludeDir() {
  for (const char* dir : {"/usr/include", "/opt/rocm/include"}) {
    if (fs::exists(fs::path(dir) / "hip/hip_runtime_api.h") && fs::exists(fs::path(dir) / "hip/hiprtc.h")) {
      return dir;
    }
  }
  return "";
}

TEST(HipAbiTest, DeclarationsMatchTheInstalledHipHeaders) {
  const std::string include = HipIncludeDir();
  if (include.empty()) {
    GTEST_SKIP() << "no HIP headers (hip/hip_runtime_api.h, hip/hiprtc.h) in /usr/include or "
                    "/opt/rocm/include: install libamdhip64-dev (deploy/install-deps.sh)";
  }
  const fs::path root = SourceRoot();
  const fs::path check = root / "tests/devices/gpu/hip_abi_check.cpp";
  if (!fs::exists(check)) GTEST_SKIP() << "source tree not found at " << root;
  const std::string log = ::testing::TempDir() + "/petabox-hip-abi-check.log";
  const std::string command = "c++ -std=c++20 -fsyntax-only -D__HIP_PLATFORM_AMD__ "
                              "-DPETABOX_HIP_ABI_CHECK -I'" + root.string() + "' -I'" + include +
                              "' '" + check.string() + "' >'" + log + "' 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream output;
  output << in.rdbuf();
  EXPECT_EQ(rc, 0) << command << "\n" << output.str();
}

}  // namespace
}  // namespace petabox
