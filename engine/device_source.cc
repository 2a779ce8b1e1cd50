#include "engine/device_source.h"

#include <atomic>

namespace petabox {
namespace {

std::atomic<DeviceSource*> g_source{nullptr};

}  // namespace

void InstallDeviceSource(DeviceSource* source) { g_source.store(source); }

DeviceSource* InstalledDeviceSource() { return g_source.load(); }

StatusOr<Device*> GetDevice(std::string_view name) {
  DeviceSource* source = g_source.load();
  if (source == nullptr) {
    return FailedPrecondition("no device source installed: the program must call "
                              "InstallDeviceSource (engine/device_source.h) before using devices");
  }
  return source->Get(name);
}

StatusOr<std::string> ResolveDeviceName(std::string_view name) {
  DeviceSource* source = g_source.load();
  std::string chosen(name);
  if (chosen.empty() && source != nullptr) chosen = source->DefaultDevice();
  PB_ASSIGN_OR_RETURN(Device * device, GetDevice(chosen));
  return device->properties().name;
}

DeviceCapabilities CapabilitiesOf(std::string_view name) {
  StatusOr<Device*> device = GetDevice(name);
  return device.ok() ? (*device)->properties().capabilities : DeviceCapabilities{};
}

}  // namespace petabox
