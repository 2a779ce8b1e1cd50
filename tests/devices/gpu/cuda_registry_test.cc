// Registry behaviour for CUDA names. Runs everywhere: the expectations follow what the
// driver reports on this machine (no CUDA here; N GPUs on a GPU machine).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/cuda_api.h"
#include "devices/registry.h"

namespace petabox {
namespace {

RegistryOptions TestOptions(bool enable_gpus) {
  RegistryOptions options;
  options.cpu_threads = 2;
  options.compiler.cache_dir = ::testing::TempDir() + "/petabox-cuda-registry-cache";
  options.enable_gpus = enable_gpus;
  return options;
}

// The number of CUDA devices the driver reports here, or 0 with the reason.
int CudaDeviceCount(std::string* why_none) {
  StatusOr<const GpuApi*> api = LoadCudaApi();
  if (!api.ok()) {
    *why_none = api.status().message();
    return 0;
  }
  int count = 0;
  if ((*api)->device_count(&count) != kCudaSuccess || count <= 0) {
    *why_none = "the CUDA driver reports no devices";
    return 0;
  }
  return count;
}

TEST(CudaRegistryTest, DisabledGpusLeaveOnlyCpus) {
  DeviceRegistry registry(TestOptions(false));
  std::vector<std::string> names = registry.Available();
  ASSERT_EQ(names.size(), static_cast<size_t>(DeviceRegistry::kNumVirtualCpus));
  EXPECT_EQ(names.back(), "CPU:7");
  EXPECT_EQ(registry.DefaultDevice(), "CPU:0");
  StatusOr<Device*> cuda = registry.Get("CUDA:0");
  ASSERT_FALSE(cuda.ok());
  EXPECT_EQ(cuda.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cuda.status().message(),
            "unknown device 'CUDA:0' (available: CPU:0..CPU:7; no CUDA devices: GPUs disabled "
            "by RegistryOptions::enable_gpus)");
}

TEST(CudaRegistryTest, MalformedCudaNamesAreInvalidArgument) {
  DeviceRegistry registry(TestOptions(true));
  for (const char* name : {"CUDA:x", "CUDA:", "CUDA:-1", "CUDA:0:1", "CU DA:0"}) {
    EXPECT_EQ(registry.Get(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(CudaRegistryTest, NoCudaDevicesSaysWhy) {
  std::string why_none;
  if (CudaDeviceCount(&why_none) > 0) GTEST_SKIP() << "this machine has CUDA devices";
  DeviceRegistry registry(TestOptions(true));
  EXPECT_EQ(registry.DefaultDevice(), "CPU:0");
  EXPECT_EQ(registry.Available().size(), static_cast<size_t>(DeviceRegistry::kNumVirtualCpus));
  for (const char* name : {"CUDA:0", "cuda", "Cuda:0"}) {
    StatusOr<Device*> device = registry.Get(name);
    ASSERT_FALSE(device.ok()) << name;
    EXPECT_EQ(device.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(device.status().message(),
              "unknown device 'CUDA:0' (available: CPU:0..CPU:7; no CUDA devices: " + why_none +
                  ")");
  }
  // Unknown kinds are unaffected.
  EXPECT_EQ(registry.Get("GPU:0").status().message(),
            "unknown device 'GPU:0' (available: CPU:0..CPU:7)");
}

TEST(CudaRegistryTest, CudaDevicesAreListedAndPreferred) {
  std::string why_none;
  const int count = CudaDeviceCount(&why_none);
  if (count == 0) GTEST_SKIP() << "no CUDA device: " << why_none;
  DeviceRegistry registry(TestOptions(true));
  std::vector<std::string> names = registry.Available();
  ASSERT_EQ(names.size(), static_cast<size_t>(DeviceRegistry::kNumVirtualCpus + count));
  EXPECT_EQ(names[DeviceRegistry::kNumVirtualCpus], "CUDA:0");
  EXPECT_EQ(registry.DefaultDevice(), "CUDA:0");

  StatusOr<Device*> bare = registry.Get("cuda");
  StatusOr<Device*> zero = registry.Get("CUDA:0");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*bare, *zero);
  EXPECT_EQ((*zero)->properties().name, "CUDA:0");
  EXPECT_EQ((*zero)->properties().kind, "CUDA");

  const std::string past_end = "CUDA:" + std::to_string(count);
  StatusOr<Device*> missing = registry.Get(past_end);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "unknown device '" + past_end +
                                            "' (available: CPU:0..CPU:7, CUDA:0..CUDA:" +
                                            std::to_string(count - 1) + ")");
}

}  // namespace
}  // namespace petabox
