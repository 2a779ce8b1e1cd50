#include "devices/telemetry/nvml_telemetry.h"

#include <utility>

namespace petabox {
namespace {

constexpr int kNvmlErrorInvalidArgument = 2;
constexpr int kNvmlErrorNotFound = 6;

// Calls an optional NVML query; false when it is absent or fails.
template <typename Fn, typename... Args>
bool Query(Fn fn, Args... args) {
  return fn != nullptr && fn(args...) == kNvmlSuccess;
}

}  // namespace

StatusOr<std::unique_ptr<NvmlTelemetry>> NvmlTelemetry::Init(const std::string& library) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary({library}));
  NvmlApi api;
  SymbolLoader loader(opened.handle.get());
  loader.Require("nvmlInit_v2", &api.nvmlInit_v2);
  loader.Require("nvmlShutdown", &api.nvmlShutdown);
  PB_RETURN_IF_ERROR(loader.Finish(library));
  void* handle = opened.handle.get();
  LoadSymbol(handle, "nvmlErrorString", &api.nvmlErrorString);
  LoadSymbol(handle, "nvmlDeviceGetHandleByIndex_v2", &api.nvmlDeviceGetHandleByIndex_v2);
  LoadSymbol(handle, "nvmlDeviceGetHandleByPciBusId_v2", &api.nvmlDeviceGetHandleByPciBusId_v2);
  LoadSymbol(handle, "nvmlDeviceGetPowerUsage", &api.nvmlDeviceGetPowerUsage);
  LoadSymbol(handle, "nvmlDeviceGetTotalEnergyConsumption",
             &api.nvmlDeviceGetTotalEnergyConsumption);
  LoadSymbol(handle, "nvmlDeviceGetUtilizationRates", &api.nvmlDeviceGetUtilizationRates);
  LoadSymbol(handle, "nvmlDeviceGetMemoryInfo", &api.nvmlDeviceGetMemoryInfo);
  LoadSymbol(handle, "nvmlDeviceGetTemperature", &api.nvmlDeviceGetTemperature);
  LoadSymbol(handle, "nvmlDeviceGetClockInfo", &api.nvmlDeviceGetClockInfo);
  std::unique_ptr<NvmlTelemetry> telemetry(new NvmlTelemetry(std::move(opened.handle), api));
  Status init = telemetry->Check(api.nvmlInit_v2(), "nvmlInit_v2");
  if (!init.ok()) return Unavailable(init.message());
  telemetry->initialized_ = true;
  return telemetry;
}

StatusOr<std::unique_ptr<NvmlTelemetry>> NvmlTelemetry::OpenByIndex(unsigned index,
                                                                    const std::string& library) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<NvmlTelemetry> telemetry, Init(library));
  const NvmlApi& api = telemetry->api_;
  if (api.nvmlDeviceGetHandleByIndex_v2 == nullptr) {
    return Unavailable(library + " lacks nvmlDeviceGetHandleByIndex_v2");
  }
  const std::string what = "nvmlDeviceGetHandleByIndex_v2(" + std::to_string(index) + ")";
  PB_RETURN_IF_ERROR(
      telemetry->Check(api.nvmlDeviceGetHandleByIndex_v2(index, &telemetry->device_), what));
  return telemetry;
}

StatusOr<std::unique_ptr<NvmlTelemetry>> NvmlTelemetry::OpenByPciBusId(
    const std::string& pci_bus_id, const std::string& library) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<NvmlTelemetry> telemetry, Init(library));
  const NvmlApi& api = telemetry->api_;
  if (api.nvmlDeviceGetHandleByPciBusId_v2 == nullptr) {
    return Unavailable(library + " lacks nvmlDeviceGetHandleByPciBusId_v2");
  }
  const std::string what = "nvmlDeviceGetHandleByPciBusId_v2(" + pci_bus_id + ")";
  PB_RETURN_IF_ERROR(telemetry->Check(
      api.nvmlDeviceGetHandleByPciBusId_v2(pci_bus_id.c_str(), &telemetry->device_), what));
  return telemetry;
}

NvmlTelemetry::~NvmlTelemetry() {
  if (initialized_) api_.nvmlShutdown();
}

Status NvmlTelemetry::Check(nvmlReturn_t r, const std::string& what) const {
  if (r == kNvmlSuccess) return Status::Ok();
  const char* text = api_.nvmlErrorString != nullptr ? api_.nvmlErrorString(r) : nullptr;
  std::string message = what + ": NVML error " + std::to_string(static_cast<int>(r));
  if (text != nullptr) message += std::string(" (") + text + ")";
  if (r == kNvmlErrorInvalidArgument || r == kNvmlErrorNotFound) return NotFound(message);
  return Unavailable(message);
}

TelemetryReading NvmlTelemetry::Read() {
  TelemetryReading reading;
  const NvmlApi& api = api_;
  unsigned int milliwatts = 0;
  if (Query(api.nvmlDeviceGetPowerUsage, device_, &milliwatts)) {
    reading.power_watts = milliwatts * 1e-3;
  }
  unsigned long long millijoules = 0;
  if (Query(api.nvmlDeviceGetTotalEnergyConsumption, device_, &millijoules)) {
    reading.energy_joules = static_cast<double>(millijoules) * 1e-3;
  }
  nvmlUtilization_t utilization{};
  if (Query(api.nvmlDeviceGetUtilizationRates, device_, &utilization)) {
    reading.utilization_ratio = utilization.gpu / 100.0;
  }
  nvmlMemory_t memory{};
  if (Query(api.nvmlDeviceGetMemoryInfo, device_, &memory)) {
    reading.memory_used_bytes = static_cast<int64_t>(memory.used);
    reading.memory_total_bytes = static_cast<int64_t>(memory.total);
  }
  unsigned int celsius = 0;
  if (Query(api.nvmlDeviceGetTemperature, device_,
            static_cast<nvmlTemperatureSensors_t>(kNvmlTemperatureGpu), &celsius)) {
    reading.temperature_celsius = celsius;
  }
  unsigned int megahertz = 0;
  if (Query(api.nvmlDeviceGetClockInfo, device_, static_cast<nvmlClockType_t>(kNvmlClockSm),
            &megahertz)) {
    reading.sm_clock_hz = megahertz * 1e6;
  }
  if (Query(api.nvmlDeviceGetClockInfo, device_, static_cast<nvmlClockType_t>(kNvmlClockMem),
            &megahertz)) {
    reading.mem_clock_hz = megahertz * 1e6;
  }
  return reading;
}

}  // namespace petabox
