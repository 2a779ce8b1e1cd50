#include "daemon/worker/usage_meter.h"

#include <algorithm>
#include <chrono>

#include "devices/registry.h"
#include "engine/exec_stats.h"

namespace petabox::worker {
namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Bytes the engine holds on `name` now; -1 when the device cannot be found.
int64_t EngineBytes(const std::string& name) {
  auto device = DeviceRegistry::Global().Get(name);
  return device.ok() ? (*device)->allocator().BytesInUse() : -1;
}

}  // namespace

std::vector<std::string> MeteredDevices(const std::vector<std::string>& spec_devices) {
  DeviceRegistry& registry = DeviceRegistry::Global();
  if (spec_devices.empty()) return {registry.DefaultDevice()};
  std::vector<std::string> names;
  for (const std::string& d : spec_devices) {
    auto device = registry.Get(d);
    names.push_back(device.ok() ? (*device)->properties().name : d);
  }
  return names;
}

UsageMeter::UsageMeter(std::vector<std::string> devices, double interval_seconds, std::function<double()> clock)
    : devices_(std::move(devices)),
      interval_(interval_seconds),
      clock_(clock ? std::move(clock) : SteadySeconds),
      last_emit_(clock_()),
      counters_(devices_.size()) {
  SetKernelObserver([this](const KernelRecord& r) { OnKernel(r.device, r.seconds, r.flops); });
}

UsageMeter::~UsageMeter() { SetKernelObserver(nullptr); }

// Engine threads: a few devices at most, so a linear search beats hashing the name.
void UsageMeter::OnKernel(const std::string& device, double seconds, int64_t flops) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (devices_[i] != device) continue;
    MutexLock lock(mu_);
    counters_[i].busy_seconds += seconds;
    counters_[i].flops += static_cast<double>(flops);
    ++counters_[i].kernels;
    return;
  }
}

void UsageMeter::OnStep(double seconds, int64_t samples) {
  ++steps_;
  samples_ += samples;
  step_seconds_sum_ += seconds;
  const auto bound = std::lower_bound(kStepSecondsBuckets.begin(), kStepSecondsBuckets.end(), seconds);
  ++step_buckets_[bound - kStepSecondsBuckets.begin()];
}

std::map<std::string, DeviceUsageCounters> UsageMeter::Devices() const {
  MutexLock lock(mu_);
  std::map<std::string, DeviceUsageCounters> out;
  for (size_t i = 0; i < devices_.size(); ++i) out[devices_[i]] = counters_[i];
  return out;
}

v1::UsageReport UsageMeter::Report() const {
  v1::UsageReport report;
  for (const auto& [name, c] : Devices()) {
    v1::DeviceUsageReport* device = report.add_devices();
    device->set_device(name);
    device->set_busy_seconds(c.busy_seconds);
    device->set_flops(c.flops);
    device->set_launches(c.kernels);
    const int64_t bytes = EngineBytes(name);
    if (bytes >= 0) device->set_memory_bytes(bytes);
  }
  report.set_steps(steps_);
  report.set_samples(samples_);
  report.set_step_seconds_sum(step_seconds_sum_);
  for (int64_t n : step_buckets_) report.add_step_seconds_buckets(static_cast<uint64_t>(n));
  return report;
}

bool UsageMeter::MaybeEmit(EventWriter* events, bool force) {
  const double now = clock_();
  if (!force && now - last_emit_ < interval_) return false;
  last_emit_ = now;
  v1::WorkerEvent event;
  *event.mutable_usage() = Report();
  events->Emit(std::move(event));
  return true;
}

}  // namespace petabox::worker
