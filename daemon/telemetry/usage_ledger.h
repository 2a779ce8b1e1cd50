// UsageLedger: the daemon's running account of what the box did and for whom, since
// petaboxd started: per device the kernel time and FLOPs its jobs' workers reported and
// who holds it; per running job its examples, steps, step durations and last progress;
// per tenant device-seconds (time holding devices), FLOPs and energy; job state counts and
// queue wait times. The JobManager feeds it job state changes and workers' "usage" events;
// the TelemetrySampler adds energy; /metrics, /api/box and BoxService read snapshots.
//
// Counters only grow (Prometheus counters): a restarted worker's counters start from zero
// again, and the ledger adds only what is new. Nothing here is persisted: the totals start
// at zero when petaboxd starts.
//
// Thread-safe: one mutex guards everything; every call is short.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/telemetry/clock.h"
#include "daemon/telemetry/histogram.h"
#include "daemon/telemetry/worker_usage.h"
#include "engine/util/thread_annotations.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

struct DeviceLedger {
  double busy_seconds = 0;  // kernel time of every job on the device
  double flops = 0;         // FLOPs of those kernels
  int64_t kernels = 0;
  int64_t engine_memory_bytes = 0;  // held by the holding job's engine (0 when idle)
  std::string job;                  // the holder, "jobs/{id}"; "" when idle
  std::string tenant;               // the holder's tenant; "" when idle
};

// A job that holds devices (STARTING, RUNNING, CANCELLING). Totals cover this hold of the
// devices (a requeued job starts a new one).
struct JobLedger {
  std::string tenant;
  std::vector<std::string> devices;
  v1::Job::State state = v1::Job::STATE_UNSPECIFIED;
  double samples = 0;
  double steps = 0;
  double flops = 0;
  BucketHistogram step_seconds;
  double start_unix = 0;                    // when it took the devices
  std::optional<double> last_progress_unix;  // when its step count last grew
};

struct TenantLedger {
  double device_seconds = 0;  // seconds its jobs held devices, summed over devices
  double flops = 0;
  double energy_joules = 0;  // measured device energy while its jobs held the devices
};

struct LedgerSnapshot {
  std::map<std::string, DeviceLedger> devices;  // every device of the box
  std::map<std::string, JobLedger> jobs;        // jobs holding devices, by name
  std::map<std::string, TenantLedger> tenants;  // tenants that ever used the box
  // Jobs now QUEUED, STARTING, RUNNING, CANCELLING (every one of them, zeros included).
  std::map<v1::Job::State, int64_t> active_jobs;
  // Jobs that reached SUCCEEDED, FAILED, CANCELLED since petaboxd started.
  std::map<v1::Job::State, int64_t> finished_jobs;
  // Seconds from entering QUEUED to STARTING (each start of a job once).
  BucketHistogram queue_wait;
};

class UsageLedger {
 public:
  // `devices`: the box's devices; `clock` must outlive the ledger.
  UsageLedger(std::vector<std::string> devices, const Clock* clock);

  // After every state change of a job (the JobManager's SetState), and once per QUEUED
  // job found at start: counts states, takes devices (STARTING, from job.devices()),
  // releases them (QUEUED or a terminal state) and times the queue.
  void OnJobState(const v1::Job& job);
  // A "usage" event of the job's current worker. Devices the job does not hold are
  // ignored; so is a job that holds none.
  void OnWorkerUsage(const std::string& job, const WorkerUsage& usage);
  // Measured energy used on a device held by `tenant`'s job (the sampler's attribution).
  void AddTenantEnergy(const std::string& tenant, double joules);

  LedgerSnapshot Snapshot() const;

 private:
  void Release(const std::string& job, double now) REQUIRES(mu_);

  const Clock* const clock_;
  mutable Mutex mu_;
  std::map<std::string, DeviceLedger> devices_ GUARDED_BY(mu_);
  std::map<std::string, double> hold_start_ GUARDED_BY(mu_);          // device -> Now() at take
  std::map<std::string, JobLedger> jobs_ GUARDED_BY(mu_);
  std::map<std::string, WorkerUsage> last_report_ GUARDED_BY(mu_);    // job -> its worker's last usage
  std::map<std::string, TenantLedger> tenants_ GUARDED_BY(mu_);
  std::map<std::string, v1::Job::State> states_ GUARDED_BY(mu_);      // non-terminal jobs
  std::map<std::string, double> queued_since_ GUARDED_BY(mu_);        // job -> Now() when queued
  std::map<v1::Job::State, int64_t> finished_ GUARDED_BY(mu_);
  BucketHistogram queue_wait_ GUARDED_BY(mu_);
};

// Bucket bounds (seconds) of the queue-wait histogram.
std::vector<double> QueueWaitBounds();

}  // namespace petabox::daemon
