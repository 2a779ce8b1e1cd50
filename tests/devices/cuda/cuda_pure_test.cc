// Device-free tests of the CUDA backend's pure logic (allocation rounding, launch
// geometry, NVRTC target and options, compiler cache paths): they run everywhere.
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/cuda/cuda_allocator.h"
#include "devices/cuda/cuda_compiler.h"
#include "devices/cuda/cuda_program.h"

namespace petabox {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(CudaAllocatorBlockSizeTest, SmallRequestsRoundTo512Bytes) {
  EXPECT_EQ(CudaAllocator::BlockSize(0), 512u);
  EXPECT_EQ(CudaAllocator::BlockSize(1), 512u);
  EXPECT_EQ(CudaAllocator::BlockSize(512), 512u);
  EXPECT_EQ(CudaAllocator::BlockSize(513), 1024u);
  EXPECT_EQ(CudaAllocator::BlockSize(2 * kMiB - 1), 2 * kMiB);
}

TEST(CudaAllocatorBlockSizeTest, LargeRequestsRoundTo2MiB) {
  EXPECT_EQ(CudaAllocator::BlockSize(2 * kMiB), 2 * kMiB);
  EXPECT_EQ(CudaAllocator::BlockSize(2 * kMiB + 1), 4 * kMiB);
  EXPECT_EQ(CudaAllocator::BlockSize(100 * kMiB + 3), 102 * kMiB);
}

TEST(CudaAllocatorBlockSizeTest, OverflowingRequestsHaveNoBlock) {
  EXPECT_EQ(CudaAllocator::BlockSize(std::numeric_limits<size_t>::max()), 0u);
}

TEST(CudaLaunchGeometryTest, GridIsCeilOfGlobalOverLocal) {
  LaunchDims dims;
  dims.global = {1000, 3, 1};
  dims.local = {256, 2, 1};
  StatusOr<CudaLaunchGeometry> geometry = ToLaunchGeometry(dims);
  ASSERT_TRUE(geometry.ok()) << geometry.status().ToString();
  EXPECT_EQ(geometry->grid, (std::array<unsigned, 3>{4, 2, 1}));
  EXPECT_EQ(geometry->block, (std::array<unsigned, 3>{256, 2, 1}));
  EXPECT_FALSE(geometry->empty);
}

TEST(CudaLaunchGeometryTest, ZeroGlobalIsEmpty) {
  LaunchDims dims;
  dims.global = {0, 1, 1};
  dims.local = {128, 1, 1};
  StatusOr<CudaLaunchGeometry> geometry = ToLaunchGeometry(dims);
  ASSERT_TRUE(geometry.ok());
  EXPECT_TRUE(geometry->empty);
}

TEST(CudaLaunchGeometryTest, BadDimsAreInvalidArgument) {
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
}

TEST(NvrtcTargetTest, KnownArchWithCubinIsMachineCode) {
  NvrtcTarget target = SelectNvrtcTarget(90, {75, 80, 86, 89, 90}, true);
  EXPECT_EQ(target.arch, "sm_90");
  EXPECT_TRUE(target.cubin);
  // Unknown support list: trust the device's arch.
  EXPECT_EQ(SelectNvrtcTarget(86, {}, true).arch, "sm_86");
}

TEST(NvrtcTargetTest, WithoutCubinIsPtx) {
  NvrtcTarget target = SelectNvrtcTarget(80, {}, false);
  EXPECT_EQ(target.arch, "compute_80");
  EXPECT_FALSE(target.cubin);
}

TEST(NvrtcTargetTest, DeviceNewerThanNvrtcGetsNewestKnownPtx) {
  NvrtcTarget target = SelectNvrtcTarget(120, {75, 80, 90}, true);
  EXPECT_EQ(target.arch, "compute_90");
  EXPECT_FALSE(target.cubin);
}

TEST(NvrtcOptionsTest, DefaultsKeepIeeeMath) {
  std::vector<std::string> flags = NvrtcOptions({"sm_90", true}, CudaCompilerOptions{});
  EXPECT_EQ(flags, (std::vector<std::string>{"--gpu-architecture=sm_90", "-default-device",
                                             "--std=c++17"}));
}

TEST(NvrtcOptionsTest, FastMathAndExtraFlagsAreAppended) {
  CudaCompilerOptions options;
  options.fast_math = true;
  options.extra_flags = {"-lineinfo"};
  std::vector<std::string> flags = NvrtcOptions({"compute_80", false}, options);
  ASSERT_EQ(flags.size(), 5u);
  EXPECT_EQ(flags[0], "--gpu-architecture=compute_80");
  EXPECT_EQ(flags[3], "--use_fast_math");
  EXPECT_EQ(flags[4], "-lineinfo");
}

TEST(CudaCompilerTest, WithoutNvrtcCompileIsUnavailable) {
  CudaApi api;  // no NVRTC resolved
  api.nvrtc_error = "libnvrtc.so not found: test";
  CudaCompilerOptions options;
  options.cache_dir = ::testing::TempDir() + "/petabox-cuda-no-nvrtc";
  CudaCompiler compiler(&api, 90, options);
  StatusOr<std::string> image = compiler.Compile("extern \"C\" __global__ void k() {}");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(image.status().message().find("libnvrtc.so not found: test"), std::string::npos);
  EXPECT_EQ(compiler.compiles(), 0);
  EXPECT_EQ(compiler.cache_hits(), 0);
}

TEST(CudaCompilerTest, CachePathDependsOnSourceAndOptions) {
  CudaApi api;
  CudaCompilerOptions options;
  options.cache_dir = "/tmp/petabox-cache-root";
  CudaCompiler ieee(&api, 90, options);
  options.fast_math = true;
  CudaCompiler fast(&api, 90, options);
  CudaCompiler other_arch(&api, 80, CudaCompilerOptions{"/tmp/petabox-cache-root"});
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
