// The main of every test binary: the process's device table (devices/registry.h) becomes
// the engine's device source, as in the programs that assemble the engine; then the tests
// run. Tests that need other devices install their own (engine/device_source.h).
#include <gtest/gtest.h>

#include "devices/registry.h"
#include "engine/device_source.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  petabox::InstallDeviceSource(&petabox::DeviceRegistry::Global());
  return RUN_ALL_TESTS();
}
