// Device-free tests of the GPU backend's pure logic shared by both vendors (allocation
// rounding, launch geometry) and of the CUDA table's (NVRTC target and options, compiler
// cache paths): they run everywhere.
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/cuda_api.h"
#include "devices/gpu/gpu_allocator.h"
#include "devices/gpu/gpu_compiler.h"
#include "devices/gpu/gpu_program.h"

namespace petabox {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(GpuAllocatorBlockSizeTest, SmallRequestsRoundTo512Bytes) {
  EXPECT_EQ(GpuAllocator::BlockSize(0), 512u);
  EXPECT_EQ(GpuAllocator::BlockSize(1), 512u);
  EXPECT_EQ(GpuAllocator::BlockSize(512), 512u);
  EXPECT_EQ(GpuAllocator::BlockSize(513), 1024u);
  EXPECT_EQ(GpuAllocator::BlockSize(2 * kMiB - 1), 2 * kMiB);
}

TEST(GpuAllocatorBlockSizeTest, LargeRequestsRoundTo2MiB) {
  EXPECT_EQ(GpuAllocator::BlockSize(2 * kMiB), 2 * kMiB);
  EXPECT_EQ(GpuAllocator::BlockSize(2 * kMiB + 1), 4 * kMiB);
  EXPECT_EQ(GpuAllocator::BlockSize(100 * kMiB + 3), 102 * kMiB);
}

TEST(GpuAllocatorBlockSizeTest, OverflowingRequestsHaveNoBlock) {
  EXPECT_EQ(GpuAllocator::BlockSize(std::numeric_limits<size_t>::max()), 0u);
}

TEST(GpuLaunchGeometryTest, GridIsCeilOfGlobalOverLocal) {
  LaunchDims dims;
  dims.global = {1000, 3, 1};
  dims.local = {256, 2, 1};
  StatusOr<GpuLaunchGeometry> geometry = ToLaunchGeometry(dims);
  ASSERT_TRUE(geometry.ok()) << geometry.status().ToString();
  EXPECT_EQ(geometry->grid, (std::array<unsigned, 3>{4, 2, 1}));
  EXPECT_EQ(geometry->block, (std::array<unsigned, 3>{256, 2, 1}));
  EXPECT_FALSE(geometry->empty);
}

TEST(GpuLaunchGeometryTest, ZeroGlobalIsEmpty) {
  LaunchDims dims;
  dims.global = {0, 1, 1};
  dims.local = {128, 1, 1};
  StatusOr<GpuLaunchGeometry> geometry = ToLaunchGeometry(dims);
  ASSERT_TRUE(geometry.ok());
  EXPECT_TRUE(geometry->empty);
}

TEST(GpuLaunchGeometryTest, BadDimsAreInvalidArgument) {
  LaunchDims zero_local;
  zero_local.local = {0, 1, 1};
  EXPECT_EQ(ToLaunchGeometry(zero_local).status().code(), StatusCode::kInvalidArgument);
  LaunchDims negative;
  negative.global = {-1, 1, 1};
  EXPECT_EQ(ToLaunchGeometry(negative).status().code(), StatusCode::kInvalidArgument);
  LaunchDims huge;
  huge.global = {int64_t{1} << 40, 1, 1};
  huge.local = {1, 1, 1};
  EXPECT_EQ(ToLaunchGeometry(huge).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ToLaunchGeometry(huge).status().message(),
            "GPU grid too large in dimension 0: 1099511627776 blocks");
}

TEST(NvrtcTargetTest, KnownArchWithCubinIsMachineCode) {
  RtcTarget target = SelectNvrtcTarget(90, {75, 80, 86, 89, 90}, true);
  EXPECT_EQ(target.arch, "sm_90");
  EXPECT_TRUE(target.machine_code);
  // Unknown support list: trust the device's arch.
  EXPECT_EQ(SelectNvrtcTarget(86, {}, true).arch, "sm_86");
}

TEST(NvrtcTargetTest, WithoutCubinIsPtx) {
  RtcTarget target = SelectNvrtcTarget(80, {}, false);
  EXPECT_EQ(target.arch, "compute_80");
  EXPECT_FALSE(target.machine_code);
}

TEST(NvrtcTargetTest, DeviceNewerThanNvrtcGetsNewestKnownPtx) {
  RtcTarget target = SelectNvrtcTarget(120, {75, 80, 90}, true);
  EXPECT_EQ(target.arch, "compute_90");
  EXPECT_FALSE(target.machine_code);
}

TEST(NvrtcOptionsTest, DefaultsKeepIeeeMath) {
  std::vector<std::string> flags = NvrtcOptions({"sm_90", true, {}}, GpuCompilerOptions{});
  EXPECT_EQ(flags, (std::vector<std::string>{"--gpu-architecture=sm_90", "-default-device",
                                             "--std=c++17"}));
}

TEST(NvrtcOptionsTest, FastMathAndExtraFlagsAreAppended) {
  GpuCompilerOptions options;
  options.fast_math = true;
  options.extra_flags = {"-lineinfo"};
  std::vector<std::string> flags = NvrtcOptions({"compute_80", false, {}}, options);
  ASSERT_EQ(flags.size(), 5u);
  EXPECT_EQ(flags[0], "--gpu-architecture=compute_80");
  EXPECT_EQ(flags[3], "--use_fast_math");
  EXPECT_EQ(flags[4], "-lineinfo");
}

TEST(CudaCompilerTest, WithoutNvrtcCompileIsUnavailable) {
  CudaApi api;  // no NVRTC resolved
  api.rtc_error = "libnvrtc.so not found: test";
  GpuCompilerOptions options;
  options.cache_dir = ::testing::TempDir() + "/petabox-cuda-no-nvrtc";
  GpuCompiler compiler(&api, "sm_90", options);
  StatusOr<std::string> image = compiler.Compile("extern \"C\" __global__ void k() {}");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(image.status().message().find("libnvrtc.so not found: test"), std::string::npos);
  EXPECT_EQ(compiler.compiles(), 0);
  EXPECT_EQ(compiler.cache_hits(), 0);
}

TEST(CudaCompilerTest, CachePathDependsOnSourceAndOptions) {
  CudaApi api;
  GpuCompilerOptions options;
  options.cache_dir = "/tmp/petabox-cache-root";
  GpuCompiler ieee(&api, "sm_90", options);
  options.fast_math = true;
  GpuCompiler fast(&api, "sm_90", options);
  GpuCompiler other_arch(&api, "sm_80", GpuCompilerOptions{"/tmp/petabox-cache-root"});
  const std::string source = "extern \"C\" __global__ void k() {}";
  const std::string path = ieee.CachePath(source);
  EXPECT_EQ(path.rfind("/tmp/petabox-cache-root/cuda/", 0), 0u) << path;
  EXPECT_EQ(path.size(), std::string("/tmp/petabox-cache-root/cuda/").size() + 64 + 4);
  EXPECT_EQ(path, ieee.CachePath(source));
  EXPECT_NE(path, ieee.CachePath(source + " "));
  EXPECT_NE(path, fast.CachePath(source));
  EXPECT_NE(path, other_arch.CachePath(source));
  EXPECT_EQ(ieee.kernel_dir(), "/tmp/petabox-cache-root/cuda");
}

}  // namespace
}  // namespace petabox
