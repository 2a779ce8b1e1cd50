// Registry behaviour for HIP names. Runs everywhere: the expectations follow what the HIP
// runtime reports on this machine (no runtime, or a runtime without AMD GPUs, in CI).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/hip_api.h"
#include "devices/registry.h"

namespace petabox {
namespace {

RegistryOptions TestOptions(bool enable_gpus) {
  RegistryOptions options;
  options.cpu_threads = 2;
  options.compiler.cache_dir = ::testing::TempDir() + "/petabox-hip-registry-cache";
  options.enable_gpus = enable_gpus;
  return options;
}

// The number of HIP devices the runtime reports here, or 0 with the reason.
int HipDeviceCount(std::string* why_none) {
  StatusOr<const GpuApi*> api = LoadHipApi();
  if (!api.ok()) {
    *why_none = api.status().message();
    return 0;
  }
  int count = 0;
  if (Status s = (*api)->Check((*api)->device_count(&count), "device_count"); !s.ok()) {
    *why_none = s.message();
    return 0;
  }
  if (count <= 0) *why_none = "the HIP driver reports no devices";
  return count > 0 ? count : 0;
}

TEST(HipRegistryTest, DisabledGpusLeaveNoHipDevices) {
  DeviceRegistry registry(TestOptions(false));
  EXPECT_EQ(registry.DefaultDevice(), "CPU:0");
  StatusOr<Device*> hip = registry.Get("HIP:0");
  ASSERT_FALSE(hip.ok());
  EXPECT_EQ(hip.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hip.status().message(),
            "unknown device 'HIP:0' (available: CPU:0..CPU:7; no HIP devices: GPUs disabled "
            "by RegistryOptions::enable_gpus)");
}

TEST(HipRegistryTest, MalformedHipNamesAreInvalidArgument) {
  DeviceRegistry registry(TestOptions(true));
  for (const char* name : {"HIP:x", "HIP:", "HIP:-1", "HIP:0:1", "H IP:0"}) {
    EXPECT_EQ(registry.Get(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(HipRegistryTest, NoHipDevicesSaysWhy) {
  std::string why_none;
  if (HipDeviceCount(&why_none) > 0) GTEST_SKIP() << "this machine has HIP devices";
  DeviceRegistry registry(TestOptions(true));
  EXPECT_NE(registry.DefaultDevice(), "HIP:0");
  for (const std::string& name : registry.Available()) EXPECT_EQ(name.rfind("HIP", 0), std::string::npos);
  for (const char* name : {"HIP:0", "hip", "Hip:0"}) {
    StatusOr<Device*> device = registry.Get(name);
    ASSERT_FALSE(device.ok()) << name;
    EXPECT_EQ(device.status().code(), StatusCode::kNotFound);
    const std::string& message = device.status().message();
    EXPECT_EQ(message.rfind("unknown device 'HIP:0' (available: CPU:0..CPU:7", 0), 0u) << message;
    const std::string reason = "; no HIP devices: " + why_none + ")";
    ASSERT_GE(message.size(), reason.size());
    EXPECT_EQ(message.substr(message.size() - reason.size()), reason) << message;
  }
}

TEST(HipRegistryTest, HipDevicesAreListedAfterCuda) {
  std::string why_none;
  const int count = HipDeviceCount(&why_none);
  if (count == 0) GTEST_SKIP() << "no HIP device: " << why_none;
  DeviceRegistry registry(TestOptions(true));
  std::vector<std::string> names = registry.Available();
  EXPECT_EQ(names.back(), "HIP:" + std::to_string(count - 1));
  if (registry.DefaultDevice().rfind("CUDA", 0) != 0) {
    EXPECT_EQ(registry.DefaultDevice(), "HIP:0");
  }
  StatusOr<Device*> bare = registry.Get("hip");
  StatusOr<Device*> zero = registry.Get("HIP:0");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*bare, *zero);
  EXPECT_EQ((*zero)->properties().kind, "HIP");
  EXPECT_EQ((*zero)->properties().dialect, "hip");
  EXPECT_EQ((*zero)->properties().arch.rfind("gfx", 0), 0u);
  EXPECT_EQ(registry.Get("HIP:" + std::to_string(count)).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace petabox
