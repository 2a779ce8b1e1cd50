// TelemetrySampler: every interval (config telemetry.interval_seconds) one sample of every
// device: busy ratio and achieved FLOP/s (from the ledger's kernel time and FLOPs, which
// workers report), power, energy, memory, temperature and clocks (from the device's
// telemetry source: NVML, ROCm SMI, RAPL), and FLOPS per watt. A reading the source does
// not have is absent in the sample, never estimated. It also attributes each interval's
// measured energy to the tenants whose jobs hold the devices (UsageLedger).
//
// Rates cover the interval since the previous sample, so the first sample has none.
// Power is the source's own reading, or the energy counter's increase over the interval
// (RAPL has only the counter). Energy totals count from the first sample (zero then).
//
// Devices that share one source (the virtual CPU:N devices all read the host's RAPL
// packages) get the reading once: on the first device of the group, whose FLOPS/W then
// divides the whole group's FLOP/s by the package's watts; the others carry the group's
// names in power_group and no power of their own. The group's energy is split between the
// tenants holding its devices by their kernel time in the interval (evenly when no kernel
// ran); energy while no job holds a device is nobody's.
//
// Threading: SampleOnce runs on one thread at a time (the timer of Start, or a test);
// Latest, History and WaitForSample may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/telemetry/clock.h"
#include "daemon/telemetry/usage_ledger.h"
#include "devices/telemetry/telemetry.h"
#include "engine/util/thread_annotations.h"

namespace petabox::daemon {

struct SamplerDevice {
  std::string name;                // "CUDA:0"
  int64_t memory_total_bytes = 0;  // from the device's properties (0 = unknown)
  // Devices sharing one source share this pointer. Never null.
  std::shared_ptr<DeviceTelemetry> telemetry;
};

struct DeviceSample {
  std::string name;
  std::string job;     // the holder, "" when idle
  std::string tenant;  // the holder's tenant, "" when idle
  std::string telemetry_source;  // "nvml", "rocm_smi", "rapl", "none"
  // Devices sharing this device's power reading (all of them, this one included); empty
  // when the source is the device's own, or when the shared source has no readings.
  std::vector<std::string> power_group;
  double busy_seconds_total = 0;
  double flops_total = 0;
  int64_t kernels_total = 0;
  double peak_flops_per_second = 0;  // highest interval FLOP/s since petaboxd started
  int64_t engine_memory_bytes = 0;   // the holding job's engine allocations
  std::optional<double> busy_ratio;         // 0..1 over the interval
  std::optional<double> flops_per_second;   // over the interval
  std::optional<double> power_watts;
  std::optional<double> energy_joules_total;  // since the first sample
  std::optional<double> flops_per_watt;
  std::optional<int64_t> memory_used_bytes;   // whole device, all processes (NVML, ROCm SMI)
  std::optional<int64_t> memory_total_bytes;
  std::optional<double> temperature_celsius;
  std::optional<double> core_clock_hz;
  std::optional<double> memory_clock_hz;
  std::optional<double> vendor_utilization_ratio;  // the driver's own busy figure (NVML)
};

struct BoxSample {
  uint64_t sequence = 0;        // 1, 2, 3, ...; 0: no sample taken yet
  double unix_time = 0;         // when it was taken
  double interval_seconds = 0;  // since the previous sample (0 for the first)
  std::vector<DeviceSample> devices;
  // True when some device has an energy counter, so tenants' energy is measured (else
  // their energy totals are not shown: zero would claim a measurement).
  bool measures_energy() const;
};

class TelemetrySampler {
 public:
  // `ledger` and `clock` must outlive the sampler. `history`: samples kept for History().
  TelemetrySampler(std::vector<SamplerDevice> devices, UsageLedger* ledger, const Clock* clock, size_t history = 300);
  ~TelemetrySampler();

  // Takes a sample now, keeps it as the latest, and wakes WaitForSample.
  void SampleOnce();

  // Samples every `interval_seconds` on `io` (a fixed cadence: a slow sample does not
  // shift the next ones) until Stop(). Call from io's thread or before it runs.
  void Start(boost::asio::io_context& io, double interval_seconds);
  // Stops the timer (call from io's thread, or after it stopped) and wakes all waiters.
  void Stop();

  BoxSample Latest() const;
  // Up to `history` samples, oldest first.
  std::vector<BoxSample> History() const;
  double interval_seconds() const { return interval_; }
  // Waits until a sample newer than `seen` exists, Stop() ran, or `timeout` passed;
  // returns the latest sequence.
  uint64_t WaitForSample(uint64_t seen, std::chrono::milliseconds timeout) const;

 private:
  struct Previous;  // the counters of the last sample, for rates
  void SampleCounters(const LedgerSnapshot& ledger, double dt, const std::map<size_t, TelemetryReading>& readings,
                      Previous* next, BoxSample* box, std::vector<double>* busy_delta,
                      std::vector<double>* flops_rate);
  void SamplePower(size_t leader, const TelemetryReading& reading, double dt, const std::vector<double>& busy_delta,
                   const std::vector<double>& flops_rate, Previous* next, BoxSample* box);
  void Arm();
  uint64_t LatestSequence() const REQUIRES(mu_);  // 0 before the first sample
  void AttributeEnergy(const std::vector<size_t>& group, double joules, const std::vector<double>& busy_delta,
                       const std::vector<DeviceSample>& samples);

  const std::vector<SamplerDevice> devices_;
  UsageLedger* const ledger_;
  const Clock* const clock_;
  const size_t history_size_;
  std::vector<size_t> group_of_;  // device index -> index of its group's first device

  // SampleOnce's thread only.
  std::unique_ptr<Previous> previous_;
  std::vector<double> peak_;
  std::vector<double> energy_total_;  // per group leader
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point next_;
  double interval_ = 0;

  mutable Mutex mu_;
  mutable std::condition_variable_any cv_;
  std::deque<BoxSample> samples_ GUARDED_BY(mu_);  // newest last
  bool stopped_ GUARDED_BY(mu_) = false;
};

}  // namespace petabox::daemon
