// The engine's device source (engine/device_source.h): what happens without one, with one
// installed for a scope, and that per-device decisions follow capabilities.
#include "engine/device_source.h"

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "tests/engine/test_devices.h"

namespace petabox {
namespace {

TEST(DeviceSourceTest, WithoutASourceDevicesFailClearly) {
  ScopedDeviceSource none(nullptr);
  EXPECT_EQ(InstalledDeviceSource(), nullptr);
  StatusOr<Device*> device = GetDevice("CPU:0");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(device.status().message().find("InstallDeviceSource"), std::string::npos);
  Tensor t = Tensor::FromVector({1, 2}, {2});
  EXPECT_EQ(t.status().code(), StatusCode::kFailedPrecondition);
  // Unknown devices have the default capabilities (what a GPU answers).
  EXPECT_FALSE(CapabilitiesOf("CPU:0").packs_operands_for_simd);
  EXPECT_TRUE(CapabilitiesOf("CPU:0").splits_big_reductions);
}

TEST(DeviceSourceTest, ScopedSourceIsUsedThenThePreviousOneComesBack) {
  DeviceSource* before = InstalledDeviceSource();
  CapabilityDevices devices;
  DeviceCapabilities host;
  host.loops_over_chunks = true;
  devices.Add("ONLY:0", host);
  {
    ScopedDeviceSource scoped(&devices);
    EXPECT_EQ(InstalledDeviceSource(), &devices);
    // An empty name is the source's default device.
    EXPECT_EQ(*ResolveDeviceName(""), "ONLY:0");
    Tensor t = Tensor::FromVector({1, 2, 3}, {3});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t.device(), "ONLY:0");
    EXPECT_EQ(*t.ToFloats(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(GetDevice("CPU:0").status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(InstalledDeviceSource(), before);
}

TEST(DeviceSourceTest, CapabilitiesComeFromTheDevice) {
  CapabilityDevices devices;
  DeviceCapabilities host;
  host.loops_over_chunks = true;
  host.packs_operands_for_simd = true;
  host.splits_big_reductions = false;
  devices.Add("HOSTLIKE:0", host);
  ScopedDeviceSource scoped(&devices);
  DeviceCapabilities got = CapabilitiesOf("HOSTLIKE:0");
  EXPECT_TRUE(got.loops_over_chunks);
  EXPECT_TRUE(got.packs_operands_for_simd);
  EXPECT_FALSE(got.splits_big_reductions);
}

}  // namespace
}  // namespace petabox
