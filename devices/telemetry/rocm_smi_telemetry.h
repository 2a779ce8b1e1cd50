// AMD GPU telemetry through ROCm SMI (librocm_smi64.so, loaded at run time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "devices/dynamic_library.h"
#include "devices/telemetry/telemetry.h"
#include "engine/util/status.h"

namespace petabox {

// Entry points of rocm_smi.h that RocmSmiTelemetry uses (enums passed as their uint32_t
// / int values). The queries are optional: null leaves that reading absent.
struct RocmSmiApi {
  using Status = int;  // rsmi_status_t
  Status (*rsmi_init)(uint64_t flags) = nullptr;  // required
  Status (*rsmi_shut_down)() = nullptr;           // required
  Status (*rsmi_num_monitor_devices)(uint32_t* count) = nullptr;
  Status (*rsmi_dev_power_ave_get)(uint32_t device, uint32_t sensor,
                                   uint64_t* microwatts) = nullptr;
  Status (*rsmi_dev_energy_count_get)(uint32_t device, uint64_t* count, float* resolution_uj,
                                      uint64_t* timestamp_ns) = nullptr;
  Status (*rsmi_dev_busy_percent_get)(uint32_t device, uint32_t* percent) = nullptr;
  Status (*rsmi_dev_memory_usage_get)(uint32_t device, uint32_t type, uint64_t* used) = nullptr;
  Status (*rsmi_dev_memory_total_get)(uint32_t device, uint32_t type, uint64_t* total) = nullptr;
  Status (*rsmi_dev_temp_metric_get)(uint32_t device, uint32_t sensor, uint32_t metric,
                                     int64_t* millidegrees) = nullptr;
};

// Readings of one AMD GPU from ROCm SMI: average power, energy counter, busy percent,
// VRAM use and total, temperature (edge sensor, else junction). Clocks are not read
// (rsmi_frequencies_t changed layout between ROCm releases) and stay absent. Each query
// that fails leaves its field absent. Thread-safe (ROCm SMI is).
class RocmSmiTelemetry : public DeviceTelemetry {
 public:
  // Library names tried in order.
  static std::vector<std::string> DefaultLibraries() {
    return {"librocm_smi64.so", "/opt/rocm/lib/librocm_smi64.so"};
  }

  // The GPU with ROCm SMI index `index`. Unavailable when the library cannot be opened or
  // rsmi_init fails; NotFound when there is no such GPU.
  static StatusOr<std::unique_ptr<RocmSmiTelemetry>> Open(
      uint32_t index, const std::vector<std::string>& libraries = DefaultLibraries());
  ~RocmSmiTelemetry() override;

  std::string source() const override { return "rocm_smi"; }
  TelemetryReading Read() override;

 private:
  RocmSmiTelemetry(DlHandle library, RocmSmiApi api, uint32_t index)
      : library_(std::move(library)), api_(api), index_(index) {}

  DlHandle library_;
  RocmSmiApi api_;
  uint32_t index_;
  bool initialized_ = false;
};

}  // namespace petabox
