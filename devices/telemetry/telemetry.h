// Per-device telemetry: power, energy, utilization, memory, temperature and clocks, read
// from the vendor's management library (NVML, ROCm SMI) or, for the CPU, Linux RAPL.
// A reading the source cannot give is absent, never estimated.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace petabox {

// One sample. Every field is absent when the source cannot read it on this machine.
struct TelemetryReading {
  // Board (GPU) or package (CPU) power draw now, in watts. Sources that only count energy
  // (RAPL) leave it absent: the caller derives power from two energy readings.
  std::optional<double> power_watts;
  // A cumulative, non-decreasing energy counter in joules. Its zero is arbitrary (driver
  // load, boot, or when the telemetry was opened): only differences between two readings
  // of the same DeviceTelemetry are meaningful.
  std::optional<double> energy_joules;
  // Fraction (0..1) of the last sample period in which the device was busy.
  std::optional<double> utilization_ratio;
  std::optional<int64_t> memory_used_bytes;
  std::optional<int64_t> memory_total_bytes;
  std::optional<double> temperature_celsius;
  std::optional<double> sm_clock_hz;   // core / shader clock now
  std::optional<double> mem_clock_hz;  // memory clock now
};

// A source of readings for one device. Implementations are safe to call from any thread.
class DeviceTelemetry {
 public:
  virtual ~DeviceTelemetry() = default;
  // Where readings come from: "nvml", "rocm_smi", "rapl", or "none".
  virtual std::string source() const = 0;
  // Reads everything the source offers now; each failing query leaves its field absent.
  virtual TelemetryReading Read() = 0;
};

// A source with no readings: what a device without a readable source gets.
class NoTelemetry : public DeviceTelemetry {
 public:
  // `why` says why there is no source (shown by tools).
  explicit NoTelemetry(std::string why) : why_(std::move(why)) {}
  std::string source() const override { return "none"; }
  TelemetryReading Read() override { return {}; }
  const std::string& why() const { return why_; }

 private:
  std::string why_;
};

// The telemetry of a device by its DeviceProperties::kind and index: NVML for "CUDA"
// (found by `pci_bus_id` when given, since NVML's index order can differ from CUDA's,
// else by index), ROCm SMI for "HIP", RAPL for "CPU" (the whole host's packages, shared
// by every virtual CPU device). Never null: when the source is unavailable the result is
// a NoTelemetry saying why.
std::unique_ptr<DeviceTelemetry> OpenDeviceTelemetry(const std::string& kind, int index,
                                                     const std::string& pci_bus_id = "");

}  // namespace petabox
