// HIP device tests on a real AMD GPU: they skip, saying why, where there is none (which so
// far is everywhere this project has run; see devices/gpu/README.md).
#include "devices/gpu/gpu_device.h"
#include "devices/gpu/hip_api.h"

#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Pointer parameters only (as the engine's kernels), size baked in.
constexpr int kSaxpyN = 100003;
const char* const kSaxpySource = R"(
extern "C" __global__ void saxpy(float* out, const float* x, const float* y) {
  const int n = 100003;
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i] + y[i];
}
)";

class HipDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<const GpuApi*> api = LoadHipApi();
    if (!api.ok()) GTEST_SKIP() << "no HIP device: " << api.status().message();
    int count = 0;
    if ((*api)->device_count(&count) != kHipSuccess || count == 0) {
      GTEST_SKIP() << "no HIP device: the runtime reports none";
    }
    GpuDeviceOptions options;
    options.allocator.max_staging_bytes = kMiB;  // copies above 1 MiB go in chunks
    options.compiler.cache_dir = ::testing::TempDir() + "/petabox-hip-test-" + std::to_string(::getpid());
    StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(*api, 0, options);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    has_hiprtc_ = (*api)->has_rtc();
  }

  void* Upload(const std::vector<float>& host) {
    StatusOr<void*> ptr = device_->allocator().Alloc(host.size() * sizeof(float));
    EXPECT_TRUE(ptr.ok()) << ptr.status().ToString();
    if (!ptr.ok()) return nullptr;
    EXPECT_TRUE(device_->allocator().CopyIn(*ptr, host.data(), host.size() * sizeof(float)).ok());
    return *ptr;
  }

  std::unique_ptr<GpuDevice> device_;
  bool has_hiprtc_ = false;
};

TEST_F(HipDeviceTest, Properties) {
  const DeviceProperties& p = device_->properties();
  EXPECT_EQ(p.name, "HIP:0");
  EXPECT_EQ(p.kind, "HIP");
  EXPECT_EQ(p.dialect, "hip");
  EXPECT_EQ(p.arch.rfind("gfx", 0), 0u) << p.arch;
  EXPECT_GT(p.memory_bytes, 0);
  EXPECT_GT(p.compute_units, 0);
  EXPECT_TRUE(device_->warp_size() == 32 || device_->warp_size() == 64);
  std::printf("HIP:0 is %s (%s, %d CUs, %lld MiB)\n", device_->model_name().c_str(),
              device_->arch_name().c_str(), p.compute_units,
              static_cast<long long>(p.memory_bytes >> 20));
}

TEST_F(HipDeviceTest, CopyRoundTripInChunks) {
  std::mt19937 rng(7);
  std::vector<float> in(3 * kMiB / sizeof(float) + 5), out(in.size());
  for (float& v : in) v = static_cast<float>(rng() % 1000);
  void* ptr = Upload(in);
  ASSERT_NE(ptr, nullptr);
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), ptr, in.size() * sizeof(float)).ok());
  EXPECT_EQ(in, out);
  device_->allocator().Free(ptr, in.size() * sizeof(float));
}

TEST_F(HipDeviceTest, CompileAndLaunchMatchesHostLoop) {
  if (!has_hiprtc_) GTEST_SKIP() << "no hiprtc";
  StatusOr<std::string> code = device_->compiler().Compile(kSaxpySource);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(*code, "saxpy");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  std::vector<float> x(kSaxpyN), y(kSaxpyN), out(kSaxpyN);
  for (int i = 0; i < kSaxpyN; ++i) {
    x[i] = static_cast<float>(i % 101);
    y[i] = static_cast<float>(i % 7);
  }
  void* dx = Upload(x);
  void* dy = Upload(y);
  void* dout = Upload(out);
  LaunchDims dims;
  dims.global = {kSaxpyN, 1, 1};
  dims.local = {256, 1, 1};
  // From another thread too: every entry point selects the device itself.
  for (int round = 0; round < 2; ++round) {
    StatusOr<double> seconds = Internal("not launched");
    std::thread([&] { seconds = (*program)->Launch({dout, dx, dy}, dims); }).join();
    ASSERT_TRUE(seconds.ok()) << seconds.status().ToString();
    EXPECT_GE(*seconds, 0.0);
  }
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), dout, out.size() * sizeof(float)).ok());
  for (int i = 0; i < kSaxpyN; ++i) ASSERT_EQ(out[i], 2.0f * x[i] + y[i]) << i;
  for (void* p : {dx, dy, dout}) device_->allocator().Free(p, kSaxpyN * sizeof(float));
}

TEST_F(HipDeviceTest, OutOfMemoryIsResourceExhaustedAndDeviceStillWorks) {
  StatusOr<void*> huge = device_->allocator().Alloc(size_t{1} << 50);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted) << huge.status().ToString();
  std::vector<float> in = {1, 2, 3}, out(3);
  void* ptr = Upload(in);
  ASSERT_NE(ptr, nullptr);
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), ptr, 12).ok());
  EXPECT_EQ(in, out);
  device_->allocator().Free(ptr, 12);
}

TEST_F(HipDeviceTest, ModuleErrors) {
  EXPECT_FALSE(device_->LoadProgram("garbage", "k").ok());
  if (!has_hiprtc_) return;
  StatusOr<std::string> code = device_->compiler().Compile(kSaxpySource);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(device_->LoadProgram(*code, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(device_->compiler().Compile("this is not HIP").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox
