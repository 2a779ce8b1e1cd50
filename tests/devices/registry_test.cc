#include "devices/registry.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

RegistryOptions TestOptions() {
  RegistryOptions options;
  options.cpu_threads = 2;
  options.compiler.cache_dir = ::testing::TempDir() + "/petabox-registry-unused";
  options.enable_gpus = false;  // the CPU-only table; CUDA names: cuda/cuda_registry_test.cc
  return options;
}

TEST(DeviceRegistryTest, BareKindMeansIndexZero) {
  DeviceRegistry registry(TestOptions());
  StatusOr<Device*> bare = registry.Get("CPU");
  StatusOr<Device*> zero = registry.Get("CPU:0");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(*bare, *zero);
  EXPECT_EQ((*bare)->properties().name, "CPU:0");
  EXPECT_EQ((*bare)->properties().compute_units, 2);
}

TEST(DeviceRegistryTest, KindIsCaseInsensitive) {
  DeviceRegistry registry(TestOptions());
  StatusOr<Device*> device = registry.Get("cpu:1");
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ((*device)->properties().name, "CPU:1");
  EXPECT_EQ(*registry.Get("Cpu:1"), *device);
}

TEST(DeviceRegistryTest, VirtualCpusShareCompiler) {
  DeviceRegistry registry(TestOptions());
  Device* a = *registry.Get("CPU:0");
  Device* b = *registry.Get("CPU:7");
  EXPECT_NE(a, b);
  EXPECT_EQ(&a->compiler(), &b->compiler());
  EXPECT_NE(&a->allocator(), &b->allocator());
}

TEST(DeviceRegistryTest, OutOfRangeIndexIsNotFound) {
  DeviceRegistry registry(TestOptions());
  StatusOr<Device*> device = registry.Get("CPU:8");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(device.status().message(), "unknown device 'CPU:8' (available: CPU:0..CPU:7)");
  EXPECT_EQ(registry.Get("CPU:99999999999999999999").status().code(), StatusCode::kNotFound);
}

TEST(DeviceRegistryTest, UnknownKindIsNotFound) {
  DeviceRegistry registry(TestOptions());
  StatusOr<Device*> device = registry.Get("GPU:0");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(device.status().message(), "unknown device 'GPU:0' (available: CPU:0..CPU:7)");
  EXPECT_EQ(registry.Get("cuda").status().message(),
            "unknown device 'CUDA:0' (available: CPU:0..CPU:7; no CUDA devices: GPUs disabled by "
            "RegistryOptions::enable_gpus)");
}

TEST(DeviceRegistryTest, MalformedNamesAreInvalidArgument) {
  DeviceRegistry registry(TestOptions());
  for (const char* name : {"CPU:x", "", "CPU:", ":0", "CPU:-1", "CPU:1:2", "C PU", "0CPU"}) {
    EXPECT_EQ(registry.Get(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(DeviceRegistryTest, AvailableAndDefault) {
  DeviceRegistry registry(TestOptions());
  std::vector<std::string> expected;
  for (int i = 0; i < DeviceRegistry::kNumVirtualCpus; ++i) {
    expected.push_back("CPU:" + std::to_string(i));
  }
  EXPECT_EQ(registry.Available(), expected);
  EXPECT_EQ(registry.DefaultDevice(), "CPU:0");
  EXPECT_TRUE(registry.Get(registry.DefaultDevice()).ok());
}

TEST(DeviceRegistryTest, GlobalIsOneInstance) {
  EXPECT_EQ(&DeviceRegistry::Global(), &DeviceRegistry::Global());
  // "CUDA:0" on a machine with an NVIDIA GPU, else "CPU:0".
  EXPECT_TRUE(DeviceRegistry::Global().Get(DeviceRegistry::Global().DefaultDevice()).ok());
}

}  // namespace
}  // namespace petabox
