#include "daemon/telemetry/sampler.h"

#include <algorithm>
#include <map>

namespace petabox::daemon {

struct TelemetrySampler::Previous {
  double time = 0;
  std::vector<double> busy_seconds, flops;
  std::vector<std::optional<double>> energy;  // the source's raw counter, per group leader
};

bool BoxSample::measures_energy() const {
  for (const DeviceSample& d : devices) {
    if (d.energy_joules_total) return true;
  }
  return false;
}

TelemetrySampler::TelemetrySampler(std::vector<SamplerDevice> devices, UsageLedger* ledger, const Clock* clock,
                                   size_t history)
    : devices_(std::move(devices)),
      ledger_(ledger),
      clock_(clock),
      history_size_(std::max<size_t>(history, 1)),
      peak_(devices_.size(), 0),
      energy_total_(devices_.size(), 0) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    size_t leader = i;
    for (size_t j = 0; j < i; ++j) {
      if (devices_[j].telemetry == devices_[i].telemetry) {
        leader = j;
        break;
      }
    }
    group_of_.push_back(leader);
  }
}

TelemetrySampler::~TelemetrySampler() = default;

namespace {

// The reading's fields that are the device's own (everything but power and energy).
void CopyReading(const TelemetryReading& r, int64_t properties_memory, DeviceSample* s) {
  s->memory_used_bytes = r.memory_used_bytes;
  s->memory_total_bytes = r.memory_total_bytes;
  if (!s->memory_total_bytes && properties_memory > 0) s->memory_total_bytes = properties_memory;
  s->temperature_celsius = r.temperature_celsius;
  s->core_clock_hz = r.sm_clock_hz;
  s->memory_clock_hz = r.mem_clock_hz;
  s->vendor_utilization_ratio = r.utilization_ratio;
}

}  // namespace

void TelemetrySampler::SampleOnce() {
  const double now = clock_->Now();
  const size_t n = devices_.size();
  auto next = std::make_unique<Previous>();
  next->time = now;
  next->busy_seconds.resize(n);
  next->flops.resize(n);
  next->energy.resize(n);
  BoxSample box;
  box.unix_time = clock_->UnixNow();
  box.interval_seconds = previous_ ? now - previous_->time : 0;
  std::vector<double> busy_delta(n, 0), flops_rate(n, 0);
  std::map<size_t, TelemetryReading> readings;  // by group leader, read once per sample
  for (size_t i = 0; i < n; ++i) {
    if (group_of_[i] == i) readings[i] = devices_[i].telemetry->Read();
  }
  SampleCounters(ledger_->Snapshot(), box.interval_seconds, readings, next.get(), &box, &busy_delta, &flops_rate);
  for (const auto& [leader, reading] : readings) {
    SamplePower(leader, reading, box.interval_seconds, busy_delta, flops_rate, next.get(), &box);
  }
  previous_ = std::move(next);
  MutexLock lock(mu_);
  box.sequence = samples_.empty() ? 1 : samples_.back().sequence + 1;
  samples_.push_back(std::move(box));
  while (samples_.size() > history_size_) samples_.pop_front();
  cv_.notify_all();
}

// Per device: holder, the ledger's counters and their rates, and the source's own readings.
void TelemetrySampler::SampleCounters(const LedgerSnapshot& ledger, double dt,
                                      const std::map<size_t, TelemetryReading>& readings, Previous* next,
                                      BoxSample* box, std::vector<double>* busy_delta,
                                      std::vector<double>* flops_rate) {
  for (size_t i = 0; i < devices_.size(); ++i) {
    DeviceSample s;
    s.name = devices_[i].name;
    s.telemetry_source = devices_[i].telemetry->source();
    auto d = ledger.devices.find(s.name);
    const DeviceLedger dl = d != ledger.devices.end() ? d->second : DeviceLedger{};
    s.job = dl.job;
    s.tenant = dl.tenant;
    s.busy_seconds_total = dl.busy_seconds;
    s.flops_total = dl.flops;
    s.kernels_total = dl.kernels;
    s.engine_memory_bytes = dl.engine_memory_bytes;
    next->busy_seconds[i] = dl.busy_seconds;
    next->flops[i] = dl.flops;
    if (dt > 0) {
      (*busy_delta)[i] = std::max(0.0, dl.busy_seconds - previous_->busy_seconds[i]);
      (*flops_rate)[i] = std::max(0.0, dl.flops - previous_->flops[i]) / dt;
      s.busy_ratio = std::clamp((*busy_delta)[i] / dt, 0.0, 1.0);
      s.flops_per_second = (*flops_rate)[i];
      peak_[i] = std::max(peak_[i], (*flops_rate)[i]);
    }
    s.peak_flops_per_second = peak_[i];
    if (group_of_[i] == i) CopyReading(readings.at(i), devices_[i].memory_total_bytes, &s);
    else if (devices_[i].memory_total_bytes > 0) s.memory_total_bytes = devices_[i].memory_total_bytes;
    box->devices.push_back(std::move(s));
  }
}

// Power, energy and FLOPS/W of one source's group, on its leader; its energy to the
// holders' tenants.
void TelemetrySampler::SamplePower(size_t leader, const TelemetryReading& r, double dt,
                                   const std::vector<double>& busy_delta, const std::vector<double>& flops_rate,
                                   Previous* next, BoxSample* box) {
  std::vector<size_t> group;
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (group_of_[i] == leader) group.push_back(i);
  }
  if (group.size() > 1 && devices_[leader].telemetry->source() != "none") {
    for (size_t i : group) {
      for (size_t j : group) box->devices[i].power_group.push_back(devices_[j].name);
    }
  }
  DeviceSample& s = box->devices[leader];
  next->energy[leader] = r.energy_joules;
  const std::optional<double> before = previous_ ? previous_->energy[leader] : std::nullopt;
  double joules = 0;
  if (r.energy_joules && before && *r.energy_joules >= *before) joules = *r.energy_joules - *before;
  if (r.energy_joules) {
    energy_total_[leader] += joules;
    s.energy_joules_total = energy_total_[leader];
  }
  s.power_watts = r.power_watts;
  if (!s.power_watts && r.energy_joules && before && dt > 0) s.power_watts = joules / dt;
  double group_rate = 0;
  for (size_t i : group) group_rate += flops_rate[i];
  if (s.power_watts && *s.power_watts > 0 && dt > 0) s.flops_per_watt = group_rate / *s.power_watts;
  AttributeEnergy(group, joules, busy_delta, box->devices);
}

void TelemetrySampler::AttributeEnergy(const std::vector<size_t>& group, double joules,
                                       const std::vector<double>& busy_delta,
                                       const std::vector<DeviceSample>& samples) {
  if (!(joules > 0)) return;
  double busy = 0;
  size_t held = 0;
  for (size_t i : group) {
    if (samples[i].tenant.empty()) continue;
    busy += busy_delta[i];
    ++held;
  }
  if (held == 0) return;
  for (size_t i : group) {
    if (samples[i].tenant.empty()) continue;
    const double share = busy > 0 ? busy_delta[i] / busy : 1.0 / static_cast<double>(held);
    ledger_->AddTenantEnergy(samples[i].tenant, joules * share);
  }
}

void TelemetrySampler::Start(boost::asio::io_context& io, double interval_seconds) {
  interval_ = interval_seconds;
  timer_ = std::make_unique<boost::asio::steady_timer>(io);
  next_ = std::chrono::steady_clock::now();
  Arm();
}

void TelemetrySampler::Arm() {
  timer_->expires_at(next_);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    SampleOnce();
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(interval_));
    next_ += period;
    // After a long stall, skip the samples that were missed instead of bunching them.
    const auto now = std::chrono::steady_clock::now();
    if (next_ < now) next_ = now + period;
    Arm();
  });
}

void TelemetrySampler::Stop() {
  if (timer_) timer_->cancel();
  MutexLock lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

BoxSample TelemetrySampler::Latest() const {
  MutexLock lock(mu_);
  return samples_.empty() ? BoxSample{} : samples_.back();
}

std::vector<BoxSample> TelemetrySampler::History() const {
  MutexLock lock(mu_);
  return {samples_.begin(), samples_.end()};
}

uint64_t TelemetrySampler::WaitForSample(uint64_t seen, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!stopped_ && LatestSequence() == seen) {
    if (!lock.WaitUntil(cv_, deadline)) break;
  }
  return LatestSequence();
}

uint64_t TelemetrySampler::LatestSequence() const { return samples_.empty() ? uint64_t{0} : samples_.back().sequence; }

}  // namespace petabox::daemon
