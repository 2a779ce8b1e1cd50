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

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
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
    std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, DeviceUsageCounters> out;
  for (size_t i = 0; i < devices_.size(); ++i) out[devices_[i]] = counters_[i];
  return out;
}

JsonObject UsageMeter::Report() const {
  JsonObject o;
  o.Add("devices", Join(devices_));
  for (const auto& [name, c] : Devices()) {
    o.Add("busy_seconds:" + name, c.busy_seconds).Add("flops:" + name, c.flops).Add("kernels:" + name, c.kernels);
    const int64_t bytes = EngineBytes(name);
    if (bytes >= 0) o.Add("memory_bytes:" + name, bytes);
  }
  std::string buckets;
  for (int64_t n : step_buckets_) buckets += (buckets.empty() ? "" : ",") + std::to_string(n);
  return o.Add("steps", steps_)
      .Add("samples", samples_)
      .Add("step_seconds_sum", step_seconds_sum_)
      .Add("step_seconds_buckets", buckets);
}

bool UsageMeter::MaybeEmit(EventWriter* events, bool force) {
  const double now = clock_();
  if (!force && now - last_emit_ < interval_) return false;
  last_emit_ = now;
  events->Emit("usage", Report());
  return true;
}

}  // namespace petabox::worker
