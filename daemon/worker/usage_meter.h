// UsageMeter: what a worker's kernels did on each device, reported to petaboxd as `usage`
// events (a petabox.v1.UsageReport, proto/petabox/v1/worker.proto) so the daemon's
// telemetry (daemon/telemetry/) knows each device's busy time and achieved FLOPs without
// hardware counters. It watches every kernel through the engine's kernel observer
// (engine/exec_stats.h) and the runner's training steps, and emits a cumulative report at
// most once per interval. Kernels on devices the meter was not given are not counted.
//
// Threading: the kernel observer runs on the engine's threads (one per device); OnStep and
// MaybeEmit run on the runner's thread. Only one UsageMeter may exist at a time (it owns
// the process's kernel observer).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/worker/events.h"
#include "engine/util/thread_annotations.h"

namespace petabox::worker {

// Upper bounds (seconds) of the step-duration buckets, shared with the daemon's histogram.
inline constexpr std::array<double, 14> kStepSecondsBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,    1,     2.5,  5,     10,   30};

struct DeviceUsageCounters {
  double busy_seconds = 0;
  double flops = 0;
  int64_t kernels = 0;
};

// The canonical names ("cpu:1" -> "CPU:1") of a spec's devices, or the default device when
// the list is empty, as the runner resolves them. Names the registry does not know are
// kept as given (the runner then fails on them).
std::vector<std::string> MeteredDevices(const std::vector<std::string>& spec_devices);

class UsageMeter {
 public:
  // Counts kernels on `devices` (canonical names) and reports every `interval_seconds`
  // (> 0). `clock` returns monotonic seconds (default: steady_clock).
  UsageMeter(std::vector<std::string> devices, double interval_seconds, std::function<double()> clock = nullptr);
  // Removes the kernel observer.
  ~UsageMeter();
  UsageMeter(const UsageMeter&) = delete;
  UsageMeter& operator=(const UsageMeter&) = delete;

  // One training step took `seconds` and trained `samples` examples.
  void OnStep(double seconds, int64_t samples);
  // Emits a `usage` event when the interval has passed since the last one (always when
  // `force`). Returns whether it emitted.
  bool MaybeEmit(EventWriter* events, bool force = false);

  // The report as MaybeEmit writes it.
  v1::UsageReport Report() const;
  // Counters per device (every device given, zero when unused).
  std::map<std::string, DeviceUsageCounters> Devices() const EXCLUDES(mu_);

 private:
  void OnKernel(const std::string& device, double seconds, int64_t flops) EXCLUDES(mu_);

  const std::vector<std::string> devices_;
  const double interval_;
  const std::function<double()> clock_;
  double last_emit_;

  mutable Mutex mu_;
  std::vector<DeviceUsageCounters> counters_ GUARDED_BY(mu_);  // parallel to devices_


  // Runner thread only.
  int64_t steps_ = 0;
  int64_t samples_ = 0;
  double step_seconds_sum_ = 0;
  std::array<int64_t, kStepSecondsBuckets.size() + 1> step_buckets_{};
};

}  // namespace petabox::worker
