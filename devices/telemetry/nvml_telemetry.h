// NVIDIA GPU telemetry through NVML (libnvidia-ml.so.1, loaded at run time).
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "devices/dynamic_library.h"
#include "devices/telemetry/nvml_api.h"
#include "devices/telemetry/telemetry.h"
#include "engine/util/status.h"

namespace petabox {

// Readings of one GPU from NVML: power, total energy, utilization, memory, temperature,
// SM and memory clocks. Each query that fails (unsupported on this board, no permission)
// leaves its field absent. Holds an NVML initialization (NVML counts them) and the
// library open for as long as it exists. Thread-safe (NVML is).
class NvmlTelemetry : public DeviceTelemetry {
 public:
  static constexpr const char* kLibrary = "libnvidia-ml.so.1";

  // The GPU with NVML index `index`. Unavailable when the library cannot be opened, lacks
  // nvmlInit_v2, or nvmlInit_v2 fails; NotFound when NVML has no such GPU.
  static StatusOr<std::unique_ptr<NvmlTelemetry>> OpenByIndex(
      unsigned index, const std::string& library = kLibrary);
  // The GPU at PCI bus id `pci_bus_id` (as cuDeviceGetPCIBusId gives it). Errors as above.
  static StatusOr<std::unique_ptr<NvmlTelemetry>> OpenByPciBusId(
      const std::string& pci_bus_id, const std::string& library = kLibrary);
  ~NvmlTelemetry() override;

  std::string source() const override { return "nvml"; }
  TelemetryReading Read() override;

 private:
  NvmlTelemetry(DlHandle library, NvmlApi api) : library_(std::move(library)), api_(api) {}
  // Opens the library, resolves NVML's entry points and initializes NVML.
  static StatusOr<std::unique_ptr<NvmlTelemetry>> Init(const std::string& library);
  Status Check(nvmlReturn_t r, const std::string& what) const;

  DlHandle library_;
  NvmlApi api_;
  bool initialized_ = false;
  nvmlDevice_t device_ = nullptr;
};

}  // namespace petabox
