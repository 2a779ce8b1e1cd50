#include "devices/telemetry/rocm_smi_telemetry.h"

#include <utility>

namespace petabox {
namespace {

constexpr int kRsmiSuccess = 0;
constexpr uint32_t kRsmiMemTypeVram = 0;       // RSMI_MEM_TYPE_VRAM
constexpr uint32_t kRsmiTempTypeEdge = 0;      // RSMI_TEMP_TYPE_EDGE
constexpr uint32_t kRsmiTempTypeJunction = 1;  // RSMI_TEMP_TYPE_JUNCTION (MI200/MI300 lack edge)
constexpr uint32_t kRsmiTempCurrent = 0;       // RSMI_TEMP_CURRENT

template <typename Fn, typename... Args>
bool Query(Fn fn, Args... args) {
  return fn != nullptr && fn(args...) == kRsmiSuccess;
}

void ResolveQueries(void* handle, RocmSmiApi* api) {
  LoadSymbol(handle, "rsmi_num_monitor_devices", &api->rsmi_num_monitor_devices);
  LoadSymbol(handle, "rsmi_dev_power_ave_get", &api->rsmi_dev_power_ave_get);
  LoadSymbol(handle, "rsmi_dev_energy_count_get", &api->rsmi_dev_energy_count_get);
  LoadSymbol(handle, "rsmi_dev_busy_percent_get", &api->rsmi_dev_busy_percent_get);
  LoadSymbol(handle, "rsmi_dev_memory_usage_get", &api->rsmi_dev_memory_usage_get);
  LoadSymbol(handle, "rsmi_dev_memory_total_get", &api->rsmi_dev_memory_total_get);
  LoadSymbol(handle, "rsmi_dev_temp_metric_get", &api->rsmi_dev_temp_metric_get);
}

}  // namespace

StatusOr<std::unique_ptr<RocmSmiTelemetry>> RocmSmiTelemetry::Open(
    uint32_t index, const std::vector<std::string>& libraries) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary(libraries));
  RocmSmiApi api;
  SymbolLoader loader(opened.handle.get());
  loader.Require("rsmi_init", &api.rsmi_init);
  loader.Require("rsmi_shut_down", &api.rsmi_shut_down);
  PB_RETURN_IF_ERROR(loader.Finish(opened.name));
  ResolveQueries(opened.handle.get(), &api);
  std::unique_ptr<RocmSmiTelemetry> telemetry(
      new RocmSmiTelemetry(std::move(opened.handle), api, index));
  if (int r = api.rsmi_init(0); r != kRsmiSuccess) {
    return Unavailable(opened.name + ": rsmi_init failed with status " + std::to_string(r));
  }
  telemetry->initialized_ = true;
  uint32_t count = 0;
  if (Query(api.rsmi_num_monitor_devices, &count) && index >= count) {
    return NotFound("ROCm SMI has no GPU " + std::to_string(index) + " (it sees " +
                    std::to_string(count) + ")");
  }
  return telemetry;
}

RocmSmiTelemetry::~RocmSmiTelemetry() {
  if (initialized_) api_.rsmi_shut_down();
}

TelemetryReading RocmSmiTelemetry::Read() {
  TelemetryReading reading;
  const RocmSmiApi& api = api_;
  uint64_t microwatts = 0;
  if (Query(api.rsmi_dev_power_ave_get, index_, uint32_t{0}, &microwatts)) {
    reading.power_watts = static_cast<double>(microwatts) * 1e-6;
  }
  uint64_t count = 0, timestamp = 0;
  float resolution_uj = 0;
  if (Query(api.rsmi_dev_energy_count_get, index_, &count, &resolution_uj, &timestamp)) {
    reading.energy_joules = static_cast<double>(count) * resolution_uj * 1e-6;
  }
  uint32_t busy = 0;
  if (Query(api.rsmi_dev_busy_percent_get, index_, &busy)) reading.utilization_ratio = busy / 100.0;
  uint64_t used = 0, total = 0;
  if (Query(api.rsmi_dev_memory_usage_get, index_, kRsmiMemTypeVram, &used)) {
    reading.memory_used_bytes = static_cast<int64_t>(used);
  }
  if (Query(api.rsmi_dev_memory_total_get, index_, kRsmiMemTypeVram, &total)) {
    reading.memory_total_bytes = static_cast<int64_t>(total);
  }
  int64_t millidegrees = 0;
  if (Query(api.rsmi_dev_temp_metric_get, index_, kRsmiTempTypeEdge, kRsmiTempCurrent,
            &millidegrees) ||
      Query(api.rsmi_dev_temp_metric_get, index_, kRsmiTempTypeJunction, kRsmiTempCurrent,
            &millidegrees)) {
    reading.temperature_celsius = static_cast<double>(millidegrees) * 1e-3;
  }
  return reading;
}

}  // namespace petabox
