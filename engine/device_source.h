// How the engine finds devices: through a DeviceSource (devices/device.h) that the program
// assembling the engine installs once at start (petaboxd, petabox-worker, petabox-bench,
// the petabox CLI and the test binaries install the devices' DeviceRegistry).
// The engine itself names no backend and links none in: every per-device decision it makes
// reads DeviceProperties, mostly DeviceCapabilities.
//
// Why a process-wide installation rather than a parameter: devices are named by strings in
// tensors, graphs and job specs throughout the engine's API, and a lookup happens wherever
// such a name is realized; threading a source through every call would touch all of them.
// Thread-safe: installing and reading are atomic; a source must outlive its use.
#pragma once

#include <string>
#include <string_view>

#include "devices/device.h"

namespace petabox {

// Makes `source` the engine's device table (null uninstalls). Not owned.
void InstallDeviceSource(DeviceSource* source);
// The installed source, or null.
DeviceSource* InstalledDeviceSource();

// The device called `name` from the installed source. FailedPrecondition when no source is
// installed; otherwise what the source answers (InvalidArgument, NotFound).
StatusOr<Device*> GetDevice(std::string_view name);
// The canonical name of `name`'s device, or of the default device when `name` is empty.
StatusOr<std::string> ResolveDeviceName(std::string_view name);
// The capabilities of device `name`; the defaults (DeviceCapabilities{}) when it cannot be
// found, since an op on a missing device fails anyway when it is realized.
DeviceCapabilities CapabilitiesOf(std::string_view name);

// Installs a source for one scope and puts the previous one back (tests).
class ScopedDeviceSource {
 public:
  explicit ScopedDeviceSource(DeviceSource* source) : previous_(InstalledDeviceSource()) {
    InstallDeviceSource(source);
  }
  ~ScopedDeviceSource() { InstallDeviceSource(previous_); }
  ScopedDeviceSource(const ScopedDeviceSource&) = delete;
  ScopedDeviceSource& operator=(const ScopedDeviceSource&) = delete;

 private:
  DeviceSource* const previous_;
};

}  // namespace petabox
