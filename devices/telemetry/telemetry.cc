#include "devices/telemetry/telemetry.h"

#include <utility>

#include "devices/telemetry/nvml_telemetry.h"
#include "devices/telemetry/rapl_telemetry.h"
#include "devices/telemetry/rocm_smi_telemetry.h"

namespace petabox {
namespace {

template <typename T>
std::unique_ptr<DeviceTelemetry> OrNone(StatusOr<std::unique_ptr<T>> opened) {
  if (!opened.ok()) return std::make_unique<NoTelemetry>(opened.status().message());
  return std::move(opened).value();
}

}  // namespace

std::unique_ptr<DeviceTelemetry> OpenDeviceTelemetry(const std::string& kind, int index,
                                                     const std::string& pci_bus_id) {
  if (kind == "CUDA") {
    if (!pci_bus_id.empty()) return OrNone(NvmlTelemetry::OpenByPciBusId(pci_bus_id));
    return OrNone(NvmlTelemetry::OpenByIndex(index));
  }
  if (kind == "HIP") return OrNone(RocmSmiTelemetry::Open(index));
  if (kind == "CPU") return OrNone(RaplTelemetry::Open());
  return std::make_unique<NoTelemetry>("no telemetry source for device kind '" + kind + "'");
}

}  // namespace petabox
