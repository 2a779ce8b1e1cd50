// Device-free tests of the GPU table's shared pieces (devices/gpu/gpu_api.h): the RTC
// binding helpers, what each vendor's table says about itself, and the loaders' "not
// found" errors, which name the library and the symbols. They run everywhere.
#include "devices/gpu/gpu_api.h"

#include <string>

#include <gtest/gtest.h>

#include "devices/gpu/cuda_api.h"
#include "devices/gpu/hip_api.h"

namespace petabox {
namespace {

TEST(GpuApiTest, RtcWithoutItsSymbolsIsClearedAndSaysWhich) {
  StatusOr<OpenedLibrary> libc = OpenFirstLibrary({"libc.so.6"});  // loads, is no RTC
  ASSERT_TRUE(libc.ok()) << libc.status().ToString();
  CudaApi api;
  SymbolLoader loader(libc->handle.get());
  RequireRtc(loader,
             {"nvrtcGetErrorString", "nvrtcVersion", "nvrtcCreateProgram", "nvrtcDestroyProgram",
              "nvrtcCompileProgram", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog"},
             &api);
  FinishRtc(loader.Finish("libc.so.6"), "libc.so.6", &api);
  EXPECT_FALSE(api.has_rtc());
  EXPECT_EQ(api.rtc_error,
            "libc.so.6 lacks required symbols: nvrtcGetErrorString, nvrtcVersion, "
            "nvrtcCreateProgram, nvrtcDestroyProgram, nvrtcCompileProgram, "
            "nvrtcGetProgramLogSize, nvrtcGetProgramLog");
  EXPECT_TRUE(api.rtc_library.empty());
  EXPECT_EQ(api.rtc_version, nullptr);
  EXPECT_EQ(api.rtc_log, nullptr);
}

TEST(GpuApiTest, HipRuntimeWithoutItsSymbolsNamesThem) {
  HipLibraryNames names;
  names.runtime = {"libc.so.6"};  // loads, but is no HIP runtime
  StatusOr<std::unique_ptr<HipApi>> api = LoadHipLibrariesFrom(names);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
  const std::string& message = api.status().message();
  EXPECT_EQ(message.rfind("libc.so.6 lacks required symbols: hipInit, hipDriverGetVersion", 0), 0u)
      << message;
  EXPECT_NE(message.find("hipMalloc"), std::string::npos) << message;
  EXPECT_NE(message.find("hipModuleLaunchKernel"), std::string::npos) << message;
}

// With Debian's ROCm 5.2 (CI), hiprtc lives inside libamdhip64 when no libhiprtc loads.
TEST(GpuApiTest, MissingHiprtcLibraryFallsBackToTheRuntimeOrSaysWhy) {
  HipLibraryNames names;
  names.hiprtc = {"libpetabox-no-such-hiprtc.so"};
  StatusOr<std::unique_ptr<HipApi>> api = LoadHipLibrariesFrom(names);
  if (!api.ok()) GTEST_SKIP() << "no HIP runtime here: " << api.status().message();
  if ((*api)->has_rtc()) {
    EXPECT_EQ((*api)->rtc_library, (*api)->runtime_library + " (built-in hiprtc)");
    EXPECT_TRUE((*api)->rtc_error.empty());
  } else {
    EXPECT_EQ((*api)->rtc_error.rfind("libpetabox-no-such-hiprtc.so not found: ", 0), 0u)
        << (*api)->rtc_error;
  }
}

TEST(GpuApiTest, EachVendorDescribesItself) {
  CudaApi cuda;
  HipApi hip;
  EXPECT_EQ(cuda.kind, "CUDA");
  EXPECT_EQ(cuda.dialect, "cuda");
  EXPECT_EQ(cuda.cache_subdir, "cuda");
  EXPECT_EQ(hip.kind, "HIP");
  EXPECT_EQ(hip.dialect, "hip");
  EXPECT_EQ(hip.cache_subdir, "hip");
  EXPECT_EQ(cuda.attribute_multiprocessor_count, kCuDeviceAttributeMultiprocessorCount);
  EXPECT_EQ(hip.attribute_multiprocessor_count, kHipDeviceAttributeMultiprocessorCount);
  // An unloaded table still maps codes, naming the vendor where the driver would.
  EXPECT_EQ(cuda.Check(kCudaErrorOutOfMemory, "mem_alloc").message(), "mem_alloc: CUDA error (2)");
  EXPECT_EQ(hip.Check(kHipErrorOutOfMemory, "mem_alloc").message(), "mem_alloc: HIP error (2)");
  EXPECT_EQ(cuda.RtcCheck(kNvrtcErrorCompilation, "c").message(), "c: NVRTC error (6)");
  EXPECT_EQ(hip.RtcCheck(kHiprtcErrorCompilation, "c").message(), "c: HIPRTC_ERROR_COMPILATION (6)");
  // HIP's missing kernel name has a code of its own; CUDA's is "not found".
  EXPECT_EQ(hip.codes.function_missing, kHipErrorInvalidDeviceFunction);
  EXPECT_EQ(cuda.codes.function_missing, kCudaErrorNotFound);
}

TEST(GpuApiTest, CompileTargetsFollowTheVendor) {
  CudaApi cuda;  // no NVRTC: PTX for the device's own arch
  RtcTarget ptx = cuda.CompileTarget("sm_86", GpuCompilerOptions{});
  EXPECT_EQ(ptx.arch, "compute_86");
  EXPECT_FALSE(ptx.machine_code);
  EXPECT_EQ(ptx.options.front(), "--gpu-architecture=compute_86");
  HipApi hip;
  RtcTarget gfx = hip.CompileTarget("gfx1100", GpuCompilerOptions{});
  EXPECT_EQ(gfx.arch, "gfx1100");
  EXPECT_TRUE(gfx.machine_code);
  EXPECT_EQ(gfx.options, (std::vector<std::string>{"--offload-arch=gfx1100", "-O3"}));
}

}  // namespace
}  // namespace petabox
