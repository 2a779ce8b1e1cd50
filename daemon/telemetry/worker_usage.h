// WorkerUsage: a worker's `usage` event (a petabox.v1.UsageReport, proto/petabox/v1/
// worker.proto; daemon/worker/usage_meter.h sends it) as the telemetry's values: per
// device kernel time, FLOPs and engine memory, and the training steps' count, examples and
// durations. All counters are cumulative over the worker process.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "petabox/v1/worker.pb.h"

namespace petabox::daemon {

struct DeviceUsage {
  double busy_seconds = 0;  // kernel time
  double flops = 0;         // counted FLOPs of those kernels
  int64_t kernels = 0;      // launches
  std::optional<int64_t> engine_memory_bytes;  // held by the engine now
};

struct WorkerUsage {
  std::map<std::string, DeviceUsage> devices;  // by device name
  int64_t steps = 0;
  int64_t samples = 0;
  double step_seconds_sum = 0;
  // Steps per bucket of worker::kStepSecondsBuckets (+Inf last); empty when not reported.
  std::vector<uint64_t> step_buckets;
};

// The report's values (a later entry for the same device name replaces an earlier one).
WorkerUsage ToWorkerUsage(const v1::UsageReport& report);

// worker::kStepSecondsBuckets as a vector (the daemon's step-duration histogram bounds).
std::vector<double> StepSecondsBounds();

}  // namespace petabox::daemon
