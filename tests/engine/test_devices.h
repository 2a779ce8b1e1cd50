// A DeviceSource for engine tests: CPU devices under test names whose capabilities the
// test chooses, so a test can show that an engine decision follows a capability (and not a
// device's name or kind). Install with ScopedDeviceSource (engine/device_source.h). The
// devices live as long as the process (like the registry's): buffers and compiled kernels
// the engine caches may outlive a test. A name keeps the capabilities it was first given.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "devices/cpu/cpu_device.h"
#include "engine/device_source.h"

namespace petabox {

class CapabilityDevices : public DeviceSource {
 public:
  // Adds device `name` (e.g. "PACK:0"): a CPU device with `capabilities` (which must say
  // loops_over_chunks: the kernels run as the CPU's).
  void Add(const std::string& name, DeviceCapabilities capabilities) {
    static auto* all = new std::map<std::string, std::unique_ptr<Renamed>>();
    static auto pool = std::make_shared<ThreadPool>(2);
    static auto compiler = std::make_shared<CpuCompiler>();
    std::unique_ptr<Renamed>& device = (*all)[name];
    if (device == nullptr) device = std::make_unique<Renamed>(name, capabilities, pool, compiler);
    devices_[name] = device.get();
  }
  StatusOr<Device*> Get(std::string_view name) override {
    auto it = devices_.find(std::string(name));
    if (it == devices_.end()) return NotFound("no test device '" + std::string(name) + "'");
    return static_cast<Device*>(it->second);
  }
  std::string DefaultDevice() const override {
    return devices_.empty() ? "" : devices_.begin()->first;
  }

 private:
  class Renamed : public CpuDevice {
   public:
    Renamed(const std::string& name, DeviceCapabilities capabilities,
            std::shared_ptr<ThreadPool> pool, std::shared_ptr<CpuCompiler> compiler)
        : CpuDevice(0, std::move(pool), std::move(compiler)), properties_(CpuDevice::properties()) {
      properties_.name = name;
      properties_.kind = "TEST";
      properties_.capabilities = capabilities;
    }
    const DeviceProperties& properties() const override { return properties_; }

   private:
    DeviceProperties properties_;
  };

  std::map<std::string, Renamed*> devices_;
};

}  // namespace petabox
