// The few NVML (libnvidia-ml.so.1) types and entry points NvmlTelemetry uses, declared
// with nvml.h's C signatures so that building needs no NVIDIA headers
// (tests/devices/gpu/cuda_abi_check.cpp compares them with nvml.h where it exists).
#pragma once

#ifdef PETABOX_CUDA_ABI_CHECK
#include <nvml.h>
#endif

namespace petabox {

#ifdef PETABOX_CUDA_ABI_CHECK
using nvmlReturn_t = ::nvmlReturn_t;
using nvmlDevice_t = ::nvmlDevice_t;
using nvmlTemperatureSensors_t = ::nvmlTemperatureSensors_t;
using nvmlClockType_t = ::nvmlClockType_t;
using nvmlUtilization_t = ::nvmlUtilization_t;
using nvmlMemory_t = ::nvmlMemory_t;
#else
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
using nvmlTemperatureSensors_t = int;
using nvmlClockType_t = int;
struct nvmlUtilization_t {
  unsigned int gpu;     // percent of the sample period in which a kernel ran
  unsigned int memory;  // percent of the sample period in which memory was read or written
};
struct nvmlMemory_t {  // nvmlMemory_t (v1): field order as in nvml.h
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
#endif

inline constexpr int kNvmlSuccess = 0;
inline constexpr int kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
inline constexpr int kNvmlClockSm = 1;         // NVML_CLOCK_SM
inline constexpr int kNvmlClockMem = 2;        // NVML_CLOCK_MEM

// Entry points resolved with dlsym; the queries are optional (null when this NVML lacks
// them, leaving that reading absent).
struct NvmlApi {
  nvmlReturn_t (*nvmlInit_v2)() = nullptr;  // required
  nvmlReturn_t (*nvmlShutdown)() = nullptr;  // required
  const char* (*nvmlErrorString)(nvmlReturn_t result) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetHandleByIndex_v2)(unsigned int index, nvmlDevice_t* device) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetHandleByPciBusId_v2)(const char* pci_bus_id,
                                                   nvmlDevice_t* device) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetPowerUsage)(nvmlDevice_t device, unsigned int* milliwatts) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetTotalEnergyConsumption)(nvmlDevice_t device,
                                                      unsigned long long* millijoules) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetUtilizationRates)(nvmlDevice_t device,
                                                nvmlUtilization_t* utilization) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetMemoryInfo)(nvmlDevice_t device, nvmlMemory_t* memory) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetTemperature)(nvmlDevice_t device, nvmlTemperatureSensors_t sensor,
                                           unsigned int* celsius) = nullptr;
  nvmlReturn_t (*nvmlDeviceGetClockInfo)(nvmlDevice_t device, nvmlClockType_t type,
                                         unsigned int* megahertz) = nullptr;
};

}  // namespace petabox
