#include "devices/registry.h"

#include <atomic>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/hip_api.h"

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

// Fake vendors for the probe list: tables whose driver reports a fixed number of GPUs and
// refuses to open any (so Get's failure path runs, and nothing is allocated).
const GpuApi* FakeVendor(const char* kind, int (*count)(int*)) {
  auto* api = new HipApi();  // leaked: a registry keeps table pointers for its lifetime
  api->kind = kind;
  api->device_count = count;
  api->hipSetDevice = [](int) -> GpuResult { return kHipErrorInvalidDevice; };
  return api;
}
int TwoGpus(int* n) { *n = 2; return 0; }
int OneGpu(int* n) { *n = 1; return 0; }

RegistryOptions WithVendors(std::vector<GpuVendorProbe> vendors) {
  RegistryOptions options = TestOptions();
  options.enable_gpus = true;
  options.gpu_vendors = std::move(vendors);
  return options;
}

TEST(DeviceRegistryTest, DefaultVendorsAreCudaThenHip) {
  std::vector<GpuVendorProbe> vendors = DefaultGpuVendors();
  ASSERT_EQ(vendors.size(), 2u);
  EXPECT_EQ(vendors[0].kind, "CUDA");
  EXPECT_EQ(vendors[1].kind, "HIP");
}

TEST(DeviceRegistryTest, GpusComeFromTheProbeList) {
  static const GpuApi* fake = FakeVendor("FAKE", TwoGpus);
  DeviceRegistry registry(WithVendors({
      {"NONE", [] { return StatusOr<const GpuApi*>(Unavailable("libnone.so not found: test")); }},
      {"FAKE", [] { return StatusOr<const GpuApi*>(fake); }},
  }));
  std::vector<std::string> names = registry.Available();
  ASSERT_EQ(names.size(), DeviceRegistry::kNumVirtualCpus + 2u);
  EXPECT_EQ(names[DeviceRegistry::kNumVirtualCpus], "FAKE:0");
  EXPECT_EQ(names.back(), "FAKE:1");
  EXPECT_EQ(registry.DefaultDevice(), "FAKE:0");
  EXPECT_EQ(registry.Get("none").status().message(),
            "unknown device 'NONE:0' (available: CPU:0..CPU:7, FAKE:0..FAKE:1; no NONE devices: "
            "libnone.so not found: test)");
  EXPECT_EQ(registry.Get("FAKE:2").status().message(),
            "unknown device 'FAKE:2' (available: CPU:0..CPU:7, FAKE:0..FAKE:1)");
  // A listed GPU that fails to open says so, with the driver's error; kinds that are no
  // vendor's stay unknown.
  StatusOr<Device*> refused = registry.Get("fake:1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "hipSetDevice: FAKE error (101)");
  EXPECT_EQ(registry.Get("GPU:0").status().code(), StatusCode::kNotFound);
}

TEST(DeviceRegistryTest, TheFirstVendorWithDevicesIsTheDefault) {
  static const GpuApi* a = FakeVendor("A", OneGpu);
  static const GpuApi* b = FakeVendor("B", OneGpu);
  auto probe = [](const char* kind, const GpuApi* api) {
    return GpuVendorProbe{kind, [api] { return StatusOr<const GpuApi*>(api); }};
  };
  EXPECT_EQ(DeviceRegistry(WithVendors({probe("A", a), probe("B", b)})).DefaultDevice(), "A:0");
  EXPECT_EQ(DeviceRegistry(WithVendors({probe("B", b), probe("A", a)})).DefaultDevice(), "B:0");
}

TEST(DeviceRegistryTest, EachVendorIsProbedOnceAndNotWhenGpusAreDisabled) {
  static std::atomic<int> loads{0};
  static const GpuApi* fake = FakeVendor("FAKE", OneGpu);
  GpuVendorProbe counting{"FAKE", [] {
                            ++loads;
                            return StatusOr<const GpuApi*>(fake);
                          }};
  DeviceRegistry registry(WithVendors({counting}));
  EXPECT_EQ(registry.DefaultDevice(), "FAKE:0");
  EXPECT_EQ(registry.Available().size(), DeviceRegistry::kNumVirtualCpus + 1u);
  EXPECT_FALSE(registry.Get("FAKE:0").ok());
  EXPECT_EQ(loads.load(), 1);
  RegistryOptions disabled = WithVendors({counting});
  disabled.enable_gpus = false;
  DeviceRegistry off(disabled);
  EXPECT_EQ(off.DefaultDevice(), "CPU:0");
  EXPECT_EQ(loads.load(), 1);
}

}  // namespace
}  // namespace petabox
