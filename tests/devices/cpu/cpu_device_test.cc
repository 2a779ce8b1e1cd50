#include "devices/cpu/cpu_device.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

constexpr char kAffineKernel[] =
    "#include <stdint.h>\n"
    "void k(void* const* a, int64_t b, int64_t e){ float* o=a[0]; const float* x=a[1]; "
    "for(int64_t i=b;i<e;i++) o[i]=x[i]*2.0f+1.0f; }\n";

// A CpuDevice on a 4-thread pool whose compiler caches in a fresh temp directory.
class CpuDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/petabox-device-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    cache_dir_ = pattern;
    CpuCompilerOptions options;
    options.cache_dir = cache_dir_;
    pool_ = std::make_shared<ThreadPool>(4);
    compiler_ = std::make_shared<CpuCompiler>(options);
    device_ = std::make_unique<CpuDevice>(0, pool_, compiler_);
  }
  void TearDown() override {
    device_.reset();
    std::filesystem::remove_all(cache_dir_);
  }

  // Allocates a device buffer holding `host`.
  void* Upload(const std::vector<float>& host) {
    StatusOr<void*> buffer = device_->allocator().Alloc(host.size() * sizeof(float));
    EXPECT_TRUE(buffer.ok()) << buffer.status().ToString();
    const size_t bytes = host.size() * sizeof(float);
    EXPECT_TRUE(device_->allocator().CopyIn(*buffer, host.data(), bytes).ok());
    return *buffer;
  }

  std::string cache_dir_;
  std::shared_ptr<ThreadPool> pool_;
  std::shared_ptr<CpuCompiler> compiler_;
  std::unique_ptr<CpuDevice> device_;
};

TEST_F(CpuDeviceTest, Properties) {
  const DeviceProperties& properties = device_->properties();
  EXPECT_EQ(properties.name, "CPU:0");
  EXPECT_EQ(properties.kind, "CPU");
  EXPECT_EQ(properties.arch, "native");
  EXPECT_EQ(properties.dialect, "c");
  EXPECT_GT(properties.memory_bytes, 0);
  EXPECT_TRUE(properties.vector_bytes == 16 || properties.vector_bytes == 32 ||
              properties.vector_bytes == 64);
  EXPECT_EQ(properties.compute_units, 4);
  EXPECT_EQ(CpuDevice(3, pool_, compiler_).properties().name, "CPU:3");
}

TEST_F(CpuDeviceTest, CompileLoadLaunchMatchesReference) {
  constexpr int64_t n = 1001;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  std::vector<float> x(n), expected(n), out(n);
  for (int64_t i = 0; i < n; ++i) x[i] = dist(rng);
  for (int64_t i = 0; i < n; ++i) expected[i] = x[i] * 2.0f + 1.0f;

  StatusOr<std::string> binary = device_->compiler().Compile(kAffineKernel);
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(*binary, "k");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  void* out_buffer = Upload(std::vector<float>(n, 0.0f));
  void* x_buffer = Upload(x);
  LaunchDims dims;
  dims.global[0] = n;
  StatusOr<double> seconds = (*program)->Launch({out_buffer, x_buffer}, dims);
  ASSERT_TRUE(seconds.ok()) << seconds.status().ToString();
  EXPECT_GE(*seconds, 0.0);
  ASSERT_TRUE(device_->Synchronize().ok());
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), out_buffer, n * sizeof(float)).ok());
  for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << "i=" << i;
  device_->allocator().Free(out_buffer, n * sizeof(float));
  device_->allocator().Free(x_buffer, n * sizeof(float));
  EXPECT_EQ(device_->allocator().BytesInUse(), 0);
}

TEST_F(CpuDeviceTest, MissingSymbolIsNotFoundNamingIt) {
  StatusOr<std::string> binary = device_->compiler().Compile(kAffineKernel);
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(*binary, "no_such_kernel");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), StatusCode::kNotFound);
  EXPECT_NE(program.status().message().find("no_such_kernel"), std::string::npos);
  EXPECT_NE(program.status().message().find(*binary), std::string::npos);
}

TEST_F(CpuDeviceTest, MissingBinaryNamesPath) {
  const std::string path = cache_dir_ + "/missing.so";
  StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(path, "k");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(program.status().message().find(path), std::string::npos);
}

TEST_F(CpuDeviceTest, MemoryLimitIsEnforced) {
  CpuDevice limited(1, pool_, compiler_, 4096);
  EXPECT_EQ(limited.properties().memory_bytes, 4096);
  StatusOr<void*> too_big = limited.allocator().Alloc(8192);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.status().message(),
            "CPU:1 out of memory: requested 8192 bytes, in use 0 of limit 4096");
}

}  // namespace
}  // namespace petabox
