#include "daemon/telemetry/worker_usage.h"

#include <cstdlib>

#include "daemon/worker/usage_meter.h"

namespace petabox::daemon {
namespace {

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool Has(const WorkerEvent& e, const std::string& key) {
  auto it = e.fields.fields().find(key);
  return it != e.fields.fields().end() && it->second.has_number_value();
}

}  // namespace

std::vector<double> StepSecondsBounds() {
  return {worker::kStepSecondsBuckets.begin(), worker::kStepSecondsBuckets.end()};
}

StatusOr<WorkerUsage> ParseWorkerUsage(const WorkerEvent& e) {
  if (e.type != "usage") return InvalidArgument("not a usage event: " + e.type);
  if (!e.fields.fields().count("devices")) return InvalidArgument("usage event without \"devices\"");
  WorkerUsage u;
  for (const std::string& d : Split(e.String("devices"))) {
    DeviceUsage& du = u.devices[d];
    du.busy_seconds = e.Number("busy_seconds:" + d);
    du.flops = e.Number("flops:" + d);
    du.kernels = static_cast<int64_t>(e.Number("kernels:" + d));
    if (Has(e, "memory_bytes:" + d)) du.engine_memory_bytes = static_cast<int64_t>(e.Number("memory_bytes:" + d));
  }
  u.steps = static_cast<int64_t>(e.Number("steps"));
  u.samples = static_cast<int64_t>(e.Number("samples"));
  u.step_seconds_sum = e.Number("step_seconds_sum");
  for (const std::string& n : Split(e.String("step_seconds_buckets"))) {
    u.step_buckets.push_back(std::strtoull(n.c_str(), nullptr, 10));
  }
  return u;
}

}  // namespace petabox::daemon
