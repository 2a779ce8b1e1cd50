// CUDA device tests: they need a GPU and skip, saying why, where there is none.
#include "devices/gpu/cuda_api.h"
#include "devices/gpu/gpu_device.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kStagingBytes = kMiB;  // small, so copies above 1 MiB go in chunks

// The saxpy test kernel: pointer parameters only (as the engine's kernels), size baked in.
constexpr int kSaxpyN = 100003;
const char* const kSaxpySource = R"(
extern "C" __global__ void saxpy(float* out, const float* x, const float* y) {
  const int n = 100003;
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i] + y[i];
}
)";

// Writes x + 1000 * y at out[y * 37 + x] over a 37 x 19 grid: checks 2-D grids and blocks.
const char* const kGridSource = R"(
extern "C" __global__ void grid2d(float* out) {
  const int w = 37, h = 19;
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h) out[y * w + x] = x + 1000.0f * y;
}
)";

std::vector<unsigned char> RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> bytes(n);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  return bytes;
}

class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<const GpuApi*> api = LoadCudaApi();
    if (!api.ok()) GTEST_SKIP() << "no CUDA device: " << api.status().message();
    int count = 0;
    if ((*api)->device_count(&count) != kCudaSuccess || count == 0) {
      GTEST_SKIP() << "no CUDA device: the driver reports none";
    }
    api_ = *api;
    device_count_ = count;
    StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(api_, 0, Options());
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
  }

  // One kernel cache per test process, so the first compile of each source is a miss.
  static std::string CacheDir() {
    return ::testing::TempDir() + "/petabox-cuda-test-" + std::to_string(::getpid());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(CacheDir()); }

  GpuDeviceOptions Options() const {
    GpuDeviceOptions options;
    options.allocator.max_staging_bytes = kStagingBytes;
    options.compiler.cache_dir = CacheDir();
    return options;
  }

  bool HasNvrtc() const { return api_->has_rtc(); }

  // Device copy of `bytes`, or a failed test.
  void* Upload(const void* host, size_t bytes) {
    StatusOr<void*> ptr = device_->allocator().Alloc(bytes);
    EXPECT_TRUE(ptr.ok()) << ptr.status().ToString();
    if (!ptr.ok()) return nullptr;
    Status copied = device_->allocator().CopyIn(*ptr, host, bytes);
    EXPECT_TRUE(copied.ok()) << copied.ToString();
    return *ptr;
  }

  std::unique_ptr<Program> Build(const char* source, const char* name) {
    StatusOr<std::string> image = device_->compiler().Compile(source);
    EXPECT_TRUE(image.ok()) << image.status().ToString();
    if (!image.ok()) return nullptr;
    StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(*image, name);
    EXPECT_TRUE(program.ok()) << program.status().ToString();
    return program.ok() ? std::move(program).value() : nullptr;
  }

  const GpuApi* api_ = nullptr;
  int device_count_ = 0;
  std::unique_ptr<GpuDevice> device_;
};

TEST_F(CudaDeviceTest, Properties) {
  const DeviceProperties& p = device_->properties();
  EXPECT_EQ(p.name, "CUDA:0");
  EXPECT_EQ(p.kind, "CUDA");
  EXPECT_EQ(p.dialect, "cuda");
  EXPECT_EQ(p.arch.rfind("sm_", 0), 0u) << p.arch;
  EXPECT_EQ(device_->arch_name(), p.arch);
  EXPECT_EQ(device_->warp_size(), 32);
  EXPECT_GT(p.memory_bytes, int64_t{1} << 30);
  EXPECT_GT(p.compute_units, 0);
  EXPECT_EQ(p.vector_bytes, 16);
  EXPECT_FALSE(device_->model_name().empty());
  EXPECT_FALSE(device_->pci_bus_id().empty());
  std::printf("CUDA:0 is %s (%s, %s, %d SMs, %lld bytes, PCI %s), driver %d, NVRTC %d.%d (%s)\n",
              device_->model_name().c_str(), p.arch.c_str(),
              device_->gpu_compiler().target().arch.c_str(), p.compute_units,
              static_cast<long long>(p.memory_bytes), device_->pci_bus_id().c_str(),
              api_->driver_version_number, api_->rtc_major, api_->rtc_minor,
              api_->has_rtc() ? api_->rtc_library.c_str() : api_->rtc_error.c_str());
}

TEST_F(CudaDeviceTest, CopyRoundTripOfRandomBytes) {
  Allocator& allocator = device_->allocator();
  for (size_t size : {size_t{1}, size_t{511}, size_t{4096}, kStagingBytes, kStagingBytes + 3,
                      3 * kStagingBytes + kStagingBytes / 2 + 7}) {
    std::vector<unsigned char> in = RandomBytes(size, static_cast<unsigned>(size));
    void* ptr = Upload(in.data(), size);
    ASSERT_NE(ptr, nullptr) << size;
    std::vector<unsigned char> out(size, 0);
    Status copied = allocator.CopyOut(out.data(), ptr, size);
    ASSERT_TRUE(copied.ok()) << copied.ToString();
    EXPECT_EQ(in, out) << "size " << size;
    allocator.Free(ptr, size);
  }
  EXPECT_LE(device_->gpu_allocator().staging_bytes(), kStagingBytes);
  EXPECT_TRUE(allocator.CopyIn(nullptr, nullptr, 0).ok());
  EXPECT_EQ(allocator.BytesInUse(), 0);
}

TEST_F(CudaDeviceTest, FreedBlocksAreReused) {
  GpuAllocator& allocator = device_->gpu_allocator();
  ASSERT_TRUE(allocator.ReleaseCache().ok());
  StatusOr<void*> first = allocator.Alloc(1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(allocator.BytesInUse(), 1024);
  allocator.Free(*first, 1000);
  EXPECT_EQ(allocator.BytesInUse(), 0);
  EXPECT_EQ(allocator.BytesCached(), 1024);
  // Same block size (1000 and 1024 both round to 1024): the cached block comes back.
  StatusOr<void*> second = allocator.Alloc(1024);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(allocator.BytesCached(), 0);
  // Another block size does not take it.
  allocator.Free(*second, 1024);
  StatusOr<void*> other = allocator.Alloc(4096);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
  EXPECT_EQ(allocator.BytesInUse(), 4096);
  allocator.Free(*other, 4096);
  EXPECT_TRUE(allocator.ReleaseCache().ok());
  EXPECT_EQ(allocator.BytesCached(), 0);
}

TEST_F(CudaDeviceTest, OutOfMemoryIsResourceExhaustedAndDeviceStillWorks) {
  GpuAllocator& allocator = device_->gpu_allocator();
  // Something cached, which the allocator gives back before it gives up.
  StatusOr<void*> cached = allocator.Alloc(8 * kMiB);
  ASSERT_TRUE(cached.ok());
  allocator.Free(*cached, 8 * kMiB);
  const size_t huge = static_cast<size_t>(device_->properties().memory_bytes) * 2;
  StatusOr<void*> too_much = allocator.Alloc(huge);
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.status().code(), StatusCode::kResourceExhausted);
  const std::string expected = "CUDA:0 out of memory: requested " + std::to_string(huge) +
                               " bytes (free ";
  EXPECT_EQ(too_much.status().message().rfind(expected, 0), 0u) << too_much.status().message();
  EXPECT_EQ(allocator.BytesCached(), 0);  // released on the way
  EXPECT_EQ(allocator.BytesInUse(), 0);

  std::vector<unsigned char> in = RandomBytes(4096, 7), out(4096);
  void* ptr = Upload(in.data(), in.size());
  ASSERT_NE(ptr, nullptr);
  ASSERT_TRUE(allocator.CopyOut(out.data(), ptr, out.size()).ok());
  EXPECT_EQ(in, out);
  allocator.Free(ptr, in.size());
}

TEST_F(CudaDeviceTest, CompileAndLaunchMatchesHostLoop) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  std::unique_ptr<Program> program = Build(kSaxpySource, "saxpy");
  ASSERT_NE(program, nullptr);
  std::vector<float> x(kSaxpyN), y(kSaxpyN), out(kSaxpyN, -1.0f);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  for (int i = 0; i < kSaxpyN; ++i) x[i] = dist(rng), y[i] = dist(rng);
  const size_t bytes = kSaxpyN * sizeof(float);
  void* dx = Upload(x.data(), bytes);
  void* dy = Upload(y.data(), bytes);
  StatusOr<void*> dout = device_->allocator().Alloc(bytes);
  ASSERT_TRUE(dout.ok());

  LaunchDims dims;
  dims.global = {kSaxpyN, 1, 1};
  dims.local = {256, 1, 1};
  StatusOr<double> seconds = program->Launch({*dout, dx, dy}, dims);
  ASSERT_TRUE(seconds.ok()) << seconds.status().ToString();
  EXPECT_GT(*seconds, 0.0);
  EXPECT_LT(*seconds, 10.0);
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), *dout, bytes).ok());
  for (int i = 0; i < kSaxpyN; ++i) {
    ASSERT_EQ(out[i], 2.0f * x[i] + y[i]) << "at " << i;  // 2x is exact, so fma or not agree
  }
  EXPECT_TRUE(device_->Synchronize().ok());
  for (void* p : {dx, dy, *dout}) device_->allocator().Free(p, bytes);
}

TEST_F(CudaDeviceTest, TwoDimensionalGrid) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  std::unique_ptr<Program> program = Build(kGridSource, "grid2d");
  ASSERT_NE(program, nullptr);
  const int w = 37, h = 19;
  const size_t bytes = w * h * sizeof(float);
  StatusOr<void*> out = device_->allocator().Alloc(bytes);
  ASSERT_TRUE(out.ok());
  LaunchDims dims;
  dims.global = {w, h, 1};
  dims.local = {16, 8, 1};
  ASSERT_TRUE(program->Launch({*out}, dims).ok());
  std::vector<float> host(w * h);
  ASSERT_TRUE(device_->allocator().CopyOut(host.data(), *out, bytes).ok());
  for (int yy = 0; yy < h; ++yy) {
    for (int xx = 0; xx < w; ++xx) ASSERT_EQ(host[yy * w + xx], xx + 1000.0f * yy);
  }
  device_->allocator().Free(*out, bytes);
}

TEST_F(CudaDeviceTest, WorksFromAnotherThread) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  std::unique_ptr<Program> program = Build(kGridSource, "grid2d");
  ASSERT_NE(program, nullptr);
  Status result;
  std::vector<float> host(37 * 19);
  std::thread worker([&] {
    // A fresh thread has no current context: every call must set it.
    StatusOr<void*> out = device_->allocator().Alloc(host.size() * sizeof(float));
    if (!out.ok()) return void(result = out.status());
    LaunchDims dims;
    dims.global = {37, 19, 1};
    dims.local = {32, 4, 1};
    StatusOr<double> launched = program->Launch({*out}, dims);
    if (!launched.ok()) return void(result = launched.status());
    result = device_->allocator().CopyOut(host.data(), *out, host.size() * sizeof(float));
    device_->allocator().Free(*out, host.size() * sizeof(float));
  });
  worker.join();
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(host[37 * 18 + 36], 36 + 18000.0f);
}

TEST_F(CudaDeviceTest, SyntaxErrorReturnsNvrtcLog) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  const std::string source = "extern \"C\" __global__ void broken(float* o) { o[0] = ; }\n";
  StatusOr<std::string> image = device_->compiler().Compile(source);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = image.status().message();
  EXPECT_EQ(message.rfind("NVRTC failed for " + device_->gpu_compiler().target().arch + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("error"), std::string::npos) << message;
  EXPECT_NE(message.find("--- source ---\n" + source), std::string::npos) << message;
}

TEST_F(CudaDeviceTest, MissingFunctionIsNotFound) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  StatusOr<std::string> image = device_->compiler().Compile(kSaxpySource);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  StatusOr<std::unique_ptr<Program>> program = device_->LoadProgram(*image, "no_such_kernel");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), StatusCode::kNotFound);
  EXPECT_NE(program.status().message().find("'no_such_kernel'"), std::string::npos)
      << program.status().message();
}

TEST_F(CudaDeviceTest, GarbageImageIsInvalidArgument) {
  StatusOr<std::unique_ptr<Program>> program =
      device_->LoadProgram("this is neither PTX nor CUBIN", "k");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), StatusCode::kInvalidArgument)
      << program.status().ToString();
  EXPECT_NE(program.status().message().find("'k'"), std::string::npos);
}

TEST_F(CudaDeviceTest, SecondCompileIsACacheHit) {
  if (!HasNvrtc()) GTEST_SKIP() << "no NVRTC: " << api_->rtc_error;
  const std::string source =
      std::string(kSaxpySource) + "// cache test " + std::to_string(::getpid()) + "\n";
  Compiler& compiler = device_->compiler();
  const int64_t compiles = compiler.compiles(), hits = compiler.cache_hits();
  StatusOr<std::string> first = compiler.Compile(source);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(compiler.compiles(), compiles + 1);
  StatusOr<std::string> second = compiler.Compile(source);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(compiler.compiles(), compiles + 1);
  EXPECT_EQ(compiler.cache_hits(), hits + 1);
  // The cache is on disk: another compiler over the same directory hits it too.
  GpuCompiler fresh(api_, device_->properties().arch, Options().compiler);
  ASSERT_TRUE(fresh.Compile(source).ok());
  EXPECT_EQ(fresh.compiles(), 0);
  EXPECT_EQ(fresh.cache_hits(), 1);
}

TEST_F(CudaDeviceTest, CopyWithinDevice) {
  std::vector<unsigned char> in = RandomBytes(3 * kMiB + 5, 3), out(in.size());
  void* src = Upload(in.data(), in.size());
  StatusOr<void*> dst = device_->allocator().Alloc(in.size());
  ASSERT_TRUE(dst.ok());
  Status copied = CopyDeviceToDevice(*device_, *dst, *device_, src, in.size());
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  ASSERT_TRUE(device_->allocator().CopyOut(out.data(), *dst, out.size()).ok());
  EXPECT_EQ(in, out);
  device_->allocator().Free(src, in.size());
  device_->allocator().Free(*dst, in.size());
}

TEST_F(CudaDeviceTest, CopyBetweenDevices) {
  if (device_count_ < 2) GTEST_SKIP() << "needs two CUDA devices, found " << device_count_;
  StatusOr<std::unique_ptr<GpuDevice>> other = GpuDevice::Create(api_, 1, Options());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::vector<unsigned char> in = RandomBytes(5 * kMiB + 1, 4), out(in.size());
  void* src = Upload(in.data(), in.size());
  StatusOr<void*> dst = (*other)->allocator().Alloc(in.size());
  ASSERT_TRUE(dst.ok());
  for (int round = 0; round < 2; ++round) {  // the second finds peer access enabled
    Status copied = CopyDeviceToDevice(**other, *dst, *device_, src, in.size());
    ASSERT_TRUE(copied.ok()) << copied.ToString();
  }
  ASSERT_TRUE((*other)->allocator().CopyOut(out.data(), *dst, out.size()).ok());
  EXPECT_EQ(in, out);
  device_->allocator().Free(src, in.size());
  (*other)->allocator().Free(*dst, in.size());
}

}  // namespace
}  // namespace petabox
