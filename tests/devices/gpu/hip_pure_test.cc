// Device-free tests of the HIP table's pure logic (loader absence path, error mapping,
// hiprtc options, cache paths, reading the gfx target out of hipDeviceProp_t): they run
// everywhere. Allocation rounding and launch geometry are shared by both vendors and
// tested once, in cuda_pure_test.cc.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/gpu_allocator.h"
#include "devices/gpu/gpu_compiler.h"
#include "devices/gpu/gpu_program.h"
#include "devices/gpu/hip_api.h"

namespace petabox {
namespace {

HipLibraryNames MissingLibraries() {
  HipLibraryNames names;
  names.runtime = {"libpetabox-no-such-amdhip64.so.6", "/nonexistent/libamdhip64.so"};
  names.hiprtc = {"libpetabox-no-such-hiprtc.so"};
  return names;
}

TEST(HipApiLoadTest, MissingRuntimeIsUnavailableNamingEveryCandidate) {
  for (bool init : {true, false}) {
    StatusOr<std::unique_ptr<HipApi>> api =
        init ? LoadHipApiFrom(MissingLibraries()) : LoadHipLibrariesFrom(MissingLibraries());
    ASSERT_FALSE(api.ok());
    EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
    const std::string& message = api.status().message();
    EXPECT_EQ(message.rfind("libpetabox-no-such-amdhip64.so.6 not found (tried "
                            "libpetabox-no-such-amdhip64.so.6, /nonexistent/libamdhip64.so): ",
                            0),
              0u)
        << message;
  }
}

TEST(HipCheckTest, CodesMapToStatusCodesWithoutALoadedRuntime) {
  HipApi unloaded;  // no runtime: codes are mapped, names fall back to "HIP error"
  EXPECT_TRUE(unloaded.Check(kHipSuccess, "x").ok());
  Status oom = unloaded.Check(kHipErrorOutOfMemory, "hipMalloc");
  EXPECT_EQ(oom.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(oom.message(), "hipMalloc: HIP error (2)");
  EXPECT_EQ(unloaded.Check(kHipErrorNoDevice, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(unloaded.Check(kHipErrorNotFound, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(unloaded.Check(kHipErrorInvalidImage, "x").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(unloaded.Check(719, "x").code(), StatusCode::kInternal);  // launch failure
}

TEST(HipCheckTest, RuntimeNamesAndDescriptionsAreUsed) {
  HipApi api;
  api.hipGetErrorName = [](GpuResult) -> const char* { return "hipErrorOutOfMemory"; };
  api.hipGetErrorString = [](GpuResult) -> const char* { return "out of memory"; };
  EXPECT_EQ(api.Check(kHipErrorOutOfMemory, "hipMalloc").message(),
            "hipMalloc: hipErrorOutOfMemory (2): out of memory");
  // Runtimes describe codes they do not know by their name again: said once.
  api.hipGetErrorString = [](GpuResult) -> const char* { return "hipErrorOutOfMemory"; };
  EXPECT_EQ(api.Check(kHipErrorOutOfMemory, "hipMalloc").message(),
            "hipMalloc: hipErrorOutOfMemory (2)");
}

TEST(HipCheckTest, HiprtcCodesHaveNamesEvenWithoutTheLibrary) {
  HipApi unloaded;
  Status compile = unloaded.RtcCheck(kHiprtcErrorCompilation, "hiprtcCompileProgram");
  EXPECT_EQ(compile.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(compile.message(), "hiprtcCompileProgram: HIPRTC_ERROR_COMPILATION (6)");
  EXPECT_EQ(unloaded.RtcCheck(kHiprtcErrorOutOfMemory, "x").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(unloaded.RtcCheck(kHiprtcErrorBuiltinOperationFailure, "x").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(unloaded.RtcCheck(11, "x").message(), "x: hiprtc error (11)");
}

std::string PropsWithArch(size_t offset, const std::string& arch) {
  std::string props(kHipPropsBufferSize, '\0');
  props.replace(0, 18, "Radeon RX 7900 XTX");  // name[256] comes first in both layouts
  props.replace(offset, arch.size(), arch);
  return props;
}

TEST(GcnArchTest, ReadsTheTargetAndDropsFeatures) {
  EXPECT_EQ(*GcnArchFromProperties(PropsWithArch(kHipPropsR0600ArchOffset, "gfx1100"),
                                   kHipPropsR0600ArchOffset),
            "gfx1100");
  EXPECT_EQ(*GcnArchFromProperties(PropsWithArch(kHipPropsR0000ArchOffset, "gfx90a:sramecc+:xnack-"),
                                   kHipPropsR0000ArchOffset),
            "gfx90a");
}

TEST(GcnArchTest, AnotherLayoutIsRefusedNotMisread) {
  // The R0000 offset read from an R0600 struct lands in reserved fields.
  StatusOr<std::string> wrong = GcnArchFromProperties(
      PropsWithArch(kHipPropsR0600ArchOffset, "gfx1100"), kHipPropsR0000ArchOffset);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInternal);
  EXPECT_NE(wrong.status().message().find("layout"), std::string::npos);
  // A name that is not a gfx target, and a buffer too small to hold the field.
  EXPECT_FALSE(GcnArchFromProperties(PropsWithArch(0, "Radeon"), 0).ok());
  EXPECT_FALSE(GcnArchFromProperties(std::string(100, 'g'), 0).ok());
}

TEST(HiprtcOptionsTest, ArchFirstThenFastMathAndExtras) {
  EXPECT_EQ(HiprtcOptions("gfx1100", GpuCompilerOptions{}),
            (std::vector<std::string>{"--offload-arch=gfx1100", "-O3"}));
  GpuCompilerOptions options;
  options.fast_math = true;
  options.extra_flags = {"-mcumode"};
  EXPECT_EQ(HiprtcOptions("gfx90a", options),
            (std::vector<std::string>{"--offload-arch=gfx90a", "-O3", "-ffast-math", "-mcumode"}));
}

TEST(HipCompilerTest, WithoutHiprtcCompileIsUnavailable) {
  HipApi api;  // no hiprtc resolved
  api.rtc_error = "libhiprtc.so not found: test";
  GpuCompilerOptions options;
  options.cache_dir = ::testing::TempDir() + "/petabox-hip-no-hiprtc";
  GpuCompiler compiler(&api, "gfx1100", options);
  StatusOr<std::string> code = compiler.Compile("extern \"C\" __global__ void k() {}");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(code.status().message(),
            "cannot compile HIP kernels: hiprtc unavailable: libhiprtc.so not found: test");
  EXPECT_EQ(compiler.compiles(), 0);
}

TEST(HipCompilerTest, CachePathDependsOnSourceArchAndOptions) {
  HipApi api;
  GpuCompilerOptions options;
  options.cache_dir = "/tmp/petabox-cache-root";
  GpuCompiler rdna3(&api, "gfx1100", options);
  GpuCompiler rdna2(&api, "gfx1030", options);
  options.fast_math = true;
  GpuCompiler fast(&api, "gfx1100", options);
  const std::string source = "extern \"C\" __global__ void k() {}";
  const std::string path = rdna3.CachePath(source);
  EXPECT_EQ(path.rfind("/tmp/petabox-cache-root/hip/", 0), 0u) << path;
  EXPECT_EQ(path.size(), std::string("/tmp/petabox-cache-root/hip/").size() + 64 + 6);
  EXPECT_EQ(path, rdna3.CachePath(source));
  EXPECT_NE(path, rdna3.CachePath(source + " "));
  EXPECT_NE(path, rdna2.CachePath(source));
  EXPECT_NE(path, fast.CachePath(source));
  EXPECT_EQ(rdna3.kernel_dir(), "/tmp/petabox-cache-root/hip");
  EXPECT_EQ(rdna3.target().arch, "gfx1100");
}

}  // namespace
}  // namespace petabox
