// The HIP backend against the real libamdhip64 and hiprtc, where they are installed (in CI:
// Debian 12's ROCm 5.2 packages from deploy/install-deps.sh, on a machine without an AMD
// GPU). Nothing here needs a GPU: hiprtc compiles for a named target. On a machine with
// neither library every test is skipped, saying why.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "devices/gpu/gpu_compiler.h"
#include "devices/gpu/hip_api.h"

namespace petabox {
namespace {

// EM_AMDGPU and the EF_AMDGPU_MACH values of the targets compiled here (LLVM's ELF.h).
constexpr uint16_t kEmAmdgpu = 224;
constexpr uint32_t kMachGfx1030 = 0x036;

// The ELF e_machine and the EF_AMDGPU_MACH bits of e_flags of a code object, or false
// when it is not a 64-bit little-endian ELF file.
bool ReadElfTarget(const std::string& code, uint16_t* machine, uint32_t* mach) {
  if (code.size() < 64 || code.compare(0, 4, "\x7f" "ELF") != 0 || code[4] != 2 || code[5] != 1) {
    return false;
  }
  std::memcpy(machine, code.data() + 18, 2);
  uint32_t flags = 0;
  std::memcpy(&flags, code.data() + 48, 4);
  *mach = flags & 0xff;
  return true;
}

TEST(HipRuntimeTest, RuntimeLoadsOrSaysWhyNot) {
  StatusOr<std::unique_ptr<HipApi>> libraries = LoadHipLibrariesFrom(HipLibraryNames{});
  StatusOr<const GpuApi*> api = LoadHipApi();
  if (!libraries.ok()) {
    // Absent: both loaders say so, naming the first candidate; no crash, no devices.
    EXPECT_EQ(libraries.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(libraries.status().message().rfind("libamdhip64.so.7 not found (tried ", 0), 0u);
    ASSERT_FALSE(api.ok());
    GTEST_SKIP() << "no HIP runtime here: " << libraries.status().message();
  }
  EXPECT_FALSE((*libraries)->runtime_library.empty());
  if (!api.ok()) {
    // Installed without a usable AMD GPU: hipInit's own error is the reason.
    EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(api.status().message().rfind("hipInit: ", 0), 0u) << api.status().message();
    std::printf("HIP runtime %s loads; no devices: %s\n", (*libraries)->runtime_library.c_str(),
                api.status().message().c_str());
  }
}

// Debian 12's hiprtc (ROCm 5.2) aborts the process when asked for gfx1100, for which it
// has no device library; gfx1030 (RDNA2) is a target every hiprtc since ROCm 4 knows.
// The gfx1100 compile check is hip_compile_test (clang, tests/engine/codegen).
class HiprtcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<HipApi>> api = LoadHipLibrariesFrom(HipLibraryNames{});
    if (!api.ok()) GTEST_SKIP() << "no HIP runtime here: " << api.status().message();
    api_ = std::move(api).value();
    if (!api_->has_rtc()) GTEST_SKIP() << "no hiprtc here: " << api_->rtc_error;
    options_.cache_dir = ::testing::TempDir() + "/petabox-hiprtc-test-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::error_code ignored;
    std::filesystem::remove_all(options_.cache_dir, ignored);
  }

  std::unique_ptr<HipApi> api_;
  GpuCompilerOptions options_;
};

TEST_F(HiprtcTest, CompilesAKernelForRdna2) {
  GpuCompiler compiler(api_.get(), "gfx1030", options_);
  const std::string source =
      "extern \"C\" __global__ void __launch_bounds__(256) scale(float* __restrict__ out, "
      "const float* __restrict__ in) {\n"
      "  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
      "  if (i < 1000) out[i] = exp2f(in[i]) * 2.0f + sqrtf(in[i]);\n"
      "}\n";
  StatusOr<std::string> code = compiler.Compile(source);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  uint16_t machine = 0;
  uint32_t mach = 0;
  ASSERT_TRUE(ReadElfTarget(*code, &machine, &mach)) << "not an ELF code object";
  EXPECT_EQ(machine, kEmAmdgpu);
  EXPECT_EQ(mach, kMachGfx1030);
  EXPECT_NE(code->find("scale"), std::string::npos);  // the kernel's symbol
  // Warm: the disk cache answers.
  GpuCompiler warm(api_.get(), "gfx1030", options_);
  StatusOr<std::string> again = warm.Compile(source);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *code);
  EXPECT_EQ(warm.compiles(), 0);
  EXPECT_EQ(warm.cache_hits(), 1);
  std::printf("%s (hiprtc %d.%d) compiled a kernel for gfx1030: %zu bytes\n",
              api_->rtc_library.c_str(), api_->rtc_major, api_->rtc_minor, code->size());
}

TEST_F(HiprtcTest, CompileErrorsCarryHiprtcsLog) {
  GpuCompiler compiler(api_.get(), "gfx1030", options_);
  StatusOr<std::string> code =
      compiler.Compile("extern \"C\" __global__ void k(float* a) { a[0] = undeclared; }\n");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(code.status().message().find("undeclared"), std::string::npos) << code.status().message();
  EXPECT_NE(code.status().message().find("--- source ---"), std::string::npos);
}

}  // namespace
}  // namespace petabox
