// WorkerUsage: a worker's "usage" event (daemon/worker/usage_meter.h) as values: per
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

#include "daemon/jobs/worker_events.h"
#include "engine/util/status.h"

namespace petabox::daemon {

struct DeviceUsage {
  double busy_seconds = 0;  // kernel time
  double flops = 0;         // counted FLOPs of those kernels
  int64_t kernels = 0;
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

// InvalidArgument when the event is not "usage" or lacks its "devices" field.
StatusOr<WorkerUsage> ParseWorkerUsage(const WorkerEvent& event);

// worker::kStepSecondsBuckets as a vector (the daemon's step-duration histogram bounds).
std::vector<double> StepSecondsBounds();

}  // namespace petabox::daemon
