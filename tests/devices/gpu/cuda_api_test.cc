// Device-free tests of the CUDA API loader and check helpers: they run everywhere.
#include "devices/gpu/cuda_api.h"

#include <string>

#include <gtest/gtest.h>

namespace petabox {
namespace {

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

TEST(CudaApiTest, MissingDriverLibraryIsUnavailable) {
  CudaLibraryNames names;
  names.driver = "libpetabox-no-such-driver.so.1";
  StatusOr<std::unique_ptr<CudaApi>> api = LoadCudaApiFrom(names);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(StartsWith(api.status().message(), "libpetabox-no-such-driver.so.1 not found: "))
      << api.status().message();
}

TEST(CudaApiTest, LibraryWithoutDriverSymbolsIsUnavailable) {
  CudaLibraryNames names;
  names.driver = "libc.so.6";  // loads, but is no CUDA driver
  StatusOr<std::unique_ptr<CudaApi>> api = LoadCudaApiFrom(names);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(api.status().message().find("lacks required symbols: cuInit"), std::string::npos)
      << api.status().message();
  EXPECT_NE(api.status().message().find("cuMemAlloc_v2"), std::string::npos);
}

// Here without a GPU the process table is absent; on a GPU machine it is complete.
TEST(CudaApiTest, ProcessTableIsLoadedOnceAndConsistent) {
  StatusOr<const GpuApi*> first = LoadCudaApi();
  StatusOr<const GpuApi*> second = LoadCudaApi();
  ASSERT_EQ(first.ok(), second.ok());
  if (!first.ok()) {
    EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(first.status().message(), second.status().message());
    EXPECT_FALSE(first.status().message().empty());
    return;
  }
  const GpuApi* api = *first;
  EXPECT_EQ(api, *second);
  EXPECT_GT(api->driver_version_number, 0);
  EXPECT_EQ(api->runtime_library, "libcuda.so.1");
  EXPECT_NE(api->launch_kernel, nullptr);
  EXPECT_NE(api->mem_alloc, nullptr);
  if (api->has_rtc()) {
    EXPECT_GT(api->rtc_major, 0);
    EXPECT_TRUE(api->rtc_error.empty());
  } else {
    EXPECT_FALSE(api->rtc_error.empty());
  }
}

TEST(CudaApiTest, MissingNvrtcLeavesDriverUsable) {
  StatusOr<const GpuApi*> process = LoadCudaApi();
  if (!process.ok()) GTEST_SKIP() << "no CUDA device: " << process.status().message();
  CudaLibraryNames names;
  names.nvrtc = {"libpetabox-no-such-nvrtc.so"};
  StatusOr<std::unique_ptr<CudaApi>> api = LoadCudaApiFrom(names);
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  EXPECT_FALSE((*api)->has_rtc());
  EXPECT_TRUE(StartsWith((*api)->rtc_error, "libpetabox-no-such-nvrtc.so not found: "))
      << (*api)->rtc_error;
}

TEST(CudaApiTest, CudaCheckMapsCodes) {
  CudaApi unloaded;  // no driver: codes are mapped, names fall back to "CUDA error"
  EXPECT_TRUE(unloaded.Check(kCudaSuccess, "anything").ok());
  Status oom = unloaded.Check(kCudaErrorOutOfMemory, "cuMemAlloc");
  EXPECT_EQ(oom.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(StartsWith(oom.message(), "cuMemAlloc: ")) << oom.message();
  EXPECT_NE(oom.message().find("(2)"), std::string::npos) << oom.message();
  EXPECT_EQ(unloaded.Check(kCudaErrorNotFound, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(unloaded.Check(kCudaErrorNoDevice, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(unloaded.Check(kCudaErrorInvalidImage, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unloaded.Check(700, "x").code(), StatusCode::kInternal);  // illegal address
}

TEST(CudaApiTest, CudaCheckUsesDriverNamesWhenLoaded) {
  StatusOr<const GpuApi*> api = LoadCudaApi();
  if (!api.ok()) GTEST_SKIP() << "no CUDA device: " << api.status().message();
  Status oom = (*api)->Check(kCudaErrorOutOfMemory, "cuMemAlloc");
  EXPECT_TRUE(StartsWith(oom.message(), "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2): "))
      << oom.message();
}

TEST(CudaApiTest, NvrtcCheckMapsCodes) {
  CudaApi unloaded;
  EXPECT_TRUE(unloaded.RtcCheck(kNvrtcSuccess, "anything").ok());
  EXPECT_EQ(unloaded.RtcCheck(kNvrtcErrorCompilation, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unloaded.RtcCheck(kNvrtcErrorInvalidOption, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unloaded.RtcCheck(kNvrtcErrorOutOfMemory, "x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(unloaded.RtcCheck(kNvrtcErrorBuiltinOperationFailure, "x").code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(StartsWith(unloaded.RtcCheck(kNvrtcErrorCompilation, "nvrtcCompileProgram").message(),
                         "nvrtcCompileProgram: "));
}

TEST(DynamicLibraryTest, FirstLoadableNameWins) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary({"libpetabox-missing.so", "libc.so.6"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->name, "libc.so.6");
  EXPECT_NE(opened->handle, nullptr);
}

TEST(DynamicLibraryTest, NoLoadableNameListsThemAll) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary({"libpetabox-a.so", "libpetabox-b.so"});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(StartsWith(opened.status().message(),
                         "libpetabox-a.so not found (tried libpetabox-a.so, libpetabox-b.so): "))
      << opened.status().message();
}

}  // namespace
}  // namespace petabox
