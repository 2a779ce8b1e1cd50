#include "daemon/telemetry/usage_ledger.h"

#include <algorithm>

#include <google/protobuf/util/time_util.h>

#include "daemon/telemetry/tenant.h"

namespace petabox::daemon {
namespace {

bool IsTerminalState(v1::Job::State s) {
  return s == v1::Job::SUCCEEDED || s == v1::Job::FAILED || s == v1::Job::CANCELLED;
}

double UnixSeconds(const google::protobuf::Timestamp& t) { return t.seconds() + t.nanos() * 1e-9; }

// What grew from `before` to `after`; all of `after` when it went down (a new process).
double Grown(double before, double after) { return after >= before ? after - before : after; }

}  // namespace

std::vector<double> QueueWaitBounds() { return {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}; }

UsageLedger::UsageLedger(std::vector<std::string> devices, const Clock* clock)
    : clock_(clock), queue_wait_(QueueWaitBounds()) {
  for (const std::string& d : devices) devices_[d];
}

void UsageLedger::OnJobState(const v1::Job& job) {
  const std::string& name = job.name();
  const v1::Job::State state = job.state();
  const double now = clock_->Now();
  MutexLock lock(mu_);
  if (IsTerminalState(state)) {
    if (states_.erase(name)) ++finished_[state];
    queued_since_.erase(name);
    Release(name, now);
    return;
  }
  states_[name] = state;
  if (state == v1::Job::QUEUED) {
    Release(name, now);
    // A job found queued at start has waited since it was created (when it never ran).
    double since = now;
    if (!job.has_start_time() && job.has_create_time()) {
      since -= std::max(0.0, clock_->UnixNow() - UnixSeconds(job.create_time()));
    }
    queued_since_[name] = since;
    return;
  }
  if (state == v1::Job::STARTING) {
    if (auto q = queued_since_.find(name); q != queued_since_.end()) {
      queue_wait_.Observe(std::max(0.0, now - q->second));
      queued_since_.erase(q);
    }
    Release(name, now);  // a STARTING job holds only the devices it names now
    JobLedger& j = jobs_[name];
    j.tenant = TenantOfJob(job);
    j.devices.assign(job.devices().begin(), job.devices().end());
    j.step_seconds = BucketHistogram(StepSecondsBounds());
    j.start_unix = clock_->UnixNow();
    for (const std::string& d : j.devices) {
      auto it = devices_.find(d);
      if (it == devices_.end()) continue;
      it->second.job = name;
      it->second.tenant = j.tenant;
      hold_start_[d] = now;
    }
    last_report_.erase(name);
  }
  if (auto j = jobs_.find(name); j != jobs_.end()) j->second.state = state;
}

void UsageLedger::Release(const std::string& job, double now) {
  auto j = jobs_.find(job);
  if (j == jobs_.end()) return;
  for (const std::string& d : j->second.devices) {
    auto it = devices_.find(d);
    if (it == devices_.end() || it->second.job != job) continue;
    tenants_[it->second.tenant].device_seconds += std::max(0.0, now - hold_start_[d]);
    it->second.job.clear();
    it->second.tenant.clear();
    it->second.engine_memory_bytes = 0;
    hold_start_.erase(d);
  }
  jobs_.erase(j);
  last_report_.erase(job);
}

void UsageLedger::OnWorkerUsage(const std::string& job, const WorkerUsage& usage) {
  const double unix_now = clock_->UnixNow();
  MutexLock lock(mu_);
  auto j = jobs_.find(job);
  if (j == jobs_.end()) return;
  JobLedger& jl = j->second;
  const WorkerUsage previous = last_report_[job];
  for (const auto& [name, now] : usage.devices) {
    auto d = devices_.find(name);
    if (d == devices_.end() || d->second.job != job) continue;
    const DeviceUsage before = previous.devices.count(name) ? previous.devices.at(name) : DeviceUsage{};
    const double flops = Grown(before.flops, now.flops);
    d->second.busy_seconds += Grown(before.busy_seconds, now.busy_seconds);
    d->second.flops += flops;
    d->second.kernels += static_cast<int64_t>(Grown(static_cast<double>(before.kernels), static_cast<double>(now.kernels)));
    if (now.engine_memory_bytes) d->second.engine_memory_bytes = *now.engine_memory_bytes;
    jl.flops += flops;
    tenants_[jl.tenant].flops += flops;
  }
  const double steps = Grown(static_cast<double>(previous.steps), static_cast<double>(usage.steps));
  jl.steps += steps;
  jl.samples += Grown(static_cast<double>(previous.samples), static_cast<double>(usage.samples));
  if (steps > 0) jl.last_progress_unix = unix_now;
  std::vector<uint64_t> buckets = usage.step_buckets;
  const bool restarted = usage.steps < previous.steps;
  for (size_t i = 0; i < buckets.size() && !restarted; ++i) {
    const uint64_t seen = i < previous.step_buckets.size() ? previous.step_buckets[i] : 0;
    buckets[i] = buckets[i] >= seen ? buckets[i] - seen : 0;
  }
  jl.step_seconds.Add(buckets, Grown(previous.step_seconds_sum, usage.step_seconds_sum));
  last_report_[job] = usage;
}

void UsageLedger::AddTenantEnergy(const std::string& tenant, double joules) {
  if (tenant.empty() || !(joules > 0)) return;
  MutexLock lock(mu_);
  tenants_[tenant].energy_joules += joules;
}

LedgerSnapshot UsageLedger::Snapshot() const {
  const double now = clock_->Now();
  MutexLock lock(mu_);
  LedgerSnapshot s;
  s.devices = devices_;
  s.jobs = jobs_;
  s.tenants = tenants_;
  // Device-seconds of holds still open count up to now.
  for (const auto& [device, start] : hold_start_) {
    const DeviceLedger& d = devices_.at(device);
    s.tenants[d.tenant].device_seconds += std::max(0.0, now - start);
  }
  for (v1::Job::State st : {v1::Job::QUEUED, v1::Job::STARTING, v1::Job::RUNNING, v1::Job::CANCELLING}) {
    s.active_jobs[st] = 0;
  }
  for (const auto& [name, st] : states_) ++s.active_jobs[st];
  for (v1::Job::State st : {v1::Job::SUCCEEDED, v1::Job::FAILED, v1::Job::CANCELLED}) {
    s.finished_jobs[st] = finished_.count(st) ? finished_.at(st) : 0;
  }
  s.queue_wait = queue_wait_;
  return s;
}

}  // namespace petabox::daemon
