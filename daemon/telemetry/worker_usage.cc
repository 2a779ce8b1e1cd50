#include "daemon/telemetry/worker_usage.h"

#include "daemon/worker/usage_meter.h"

namespace petabox::daemon {

std::vector<double> StepSecondsBounds() {
  return {worker::kStepSecondsBuckets.begin(), worker::kStepSecondsBuckets.end()};
}

WorkerUsage ToWorkerUsage(const v1::UsageReport& report) {
  WorkerUsage u;
  for (const v1::DeviceUsageReport& d : report.devices()) {
    DeviceUsage& du = u.devices[d.device()];
    du.busy_seconds = d.busy_seconds();
    du.flops = d.flops();
    du.kernels = d.launches();
    du.engine_memory_bytes.reset();
    if (d.has_memory_bytes()) du.engine_memory_bytes = d.memory_bytes();
  }
  u.steps = report.steps();
  u.samples = report.samples();
  u.step_seconds_sum = report.step_seconds_sum();
  u.step_buckets.assign(report.step_seconds_buckets().begin(), report.step_seconds_buckets().end());
  return u;
}

}  // namespace petabox::daemon
