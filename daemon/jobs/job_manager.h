// JobManager: the life of every job on the box. It validates and queues new jobs (the
// spec's YAML parsed and validated once, here, and stored typed as Job.spec), places
// queued jobs on free devices (daemon/scheduler), runs each in its own petabox-worker
// process (daemon/supervisor) that gets the typed spec, turns the worker's events (the
// worker protocol, proto/petabox/v1/worker.proto) into job state and events in the store
// (daemon/store), fails a job whose worker breaks that protocol, restarts crashed workers from their last checkpoint up to the
// spec's max_restarts, cancels, drains on shutdown, and requeues jobs a previous daemon
// left running. Tenants' jobs are held to their quotas (daemon/jobs/tenant_quota.h):
// devices at once, queued jobs and storage at create and scheduling, the longest run by a
// timer that stops the worker. Tenants' jobs run only while no owner job waits; an owner
// job that needs devices tenants' jobs hold preempts them (they checkpoint, return to
// QUEUED as PREEMPTED and resume later); a tenant's job never preempts.
//
// Threading: all job state changes run on the io_context's thread (the daemon's event
// loop). The public methods may be called from any other thread (gRPC handlers): they post
// to the loop and wait. Never call them from the loop thread itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "daemon/scheduler/scheduler.h"
#include "daemon/store/job_store.h"
#include "daemon/supervisor/worker_process.h"
#include "daemon/worker/job_spec.h"
#include "engine/util/status.h"
#include "engine/util/thread_annotations.h"
#include "petabox/v1/box.pb.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

class UsageLedger;

struct JobManagerOptions {
  std::string data_dir;                   // jobs' files go to data_dir/jobs/{id}/
  std::vector<std::string> devices;       // the box's devices, in order
  std::vector<std::string> dataset_dirs;  // where a spec's dataset.dir may point
  std::string worker_binary;              // petabox-worker
  std::vector<std::string> worker_env;    // extra "KEY=VALUE" for workers
  std::chrono::milliseconds stop_grace{30000};
  int64_t default_checkpoint_interval = 200;
  int64_t max_queued_jobs = 1000;
  int64_t max_spec_bytes = 1 << 20;
  int64_t max_graph_bytes = int64_t{512} << 20;
  // Telemetry (daemon/telemetry/usage_ledger.h): told every job state change and the
  // workers' "usage" events, which workers send every usage_interval_seconds (0: they
  // send none). Null: no telemetry.
  UsageLedger* usage = nullptr;
  double usage_interval_seconds = 0;
};

// Devices as GetBox shows them (without telemetry).
struct DeviceAssignment {
  std::string device;
  std::string job;  // "" when idle
};

class JobManager {
 public:
  JobManager(boost::asio::io_context& io, JobStore* store, JobManagerOptions options);
  ~JobManager();

  // Requeues the jobs a previous daemon left STARTING or RUNNING (they resume from their
  // last checkpoint), finishes the CANCELLING ones, and starts what fits. Jobs a daemon
  // older than the typed spec stored (spec_yaml only) get their Job.spec here, parsed once;
  // one whose spec no longer validates fails with the reason.
  Status Recover();

  // Validates the spec and queues the job for its Job.tenant ("owner" when empty); with a
  // request_id that tenant used before, returns that job. InvalidArgument naming the spec
  // field; ResourceExhausted when the job asks for more devices than the box has, the
  // queue is full, or a tenant quota is reached (devices, queued jobs, storage: named in
  // the message); FailedPrecondition for a missing uploaded dataset; Unavailable while
  // draining.
  StatusOr<v1::Job> CreateJob(v1::Job job, const std::string& request_id);
  // See JobService.CancelJob. NotFound, FailedPrecondition when the job already ended.
  StatusOr<v1::Job> CancelJob(const std::string& name);

  // Devices and who holds them; queue length and running jobs.
  std::vector<DeviceAssignment> Devices();
  int QueueLength();
  int RunningJobs();
  // OK while `tenant`'s stored bytes plus `adding` stay within its storage quota
  // (daemon/jobs/tenant_quota.h); ResourceExhausted naming the quota otherwise.
  Status CheckStorageQuota(const std::string& tenant, int64_t adding) const;
  // True when a job that has not ended uses the dataset stored as `dataset_name`
  // (dataset.source, resolved to its key: daemon/store/dataset_names.h).
  bool DatasetInUse(const std::string& dataset_name);

  // Stops starting jobs and asks every worker to checkpoint and stop (SIGKILL after the
  // grace period); running jobs go back to QUEUED. `done` runs on the loop once all have
  // exited (at once when none runs).
  void Drain(std::function<void()> done);
  bool draining() const;

  // Where a job's checkpoints are (daemon/worker/checkpoint.h names the files).
  std::string CheckpointDir(const std::string& name) const { return JobDir(name) + "/checkpoints"; }

  // Watch support: a counter that grows whenever any job gets an event, and a wait for it
  // to pass `seen` (or for `timeout`, or Shutdown()).
  uint64_t EventVersion() const EXCLUDES(watch_mu_);
  void WaitForEvents(uint64_t seen, std::chrono::milliseconds timeout) EXCLUDES(watch_mu_);
  // Wakes all waiters for good (the server is going away).
  void Shutdown() EXCLUDES(watch_mu_);
  bool shut_down() const EXCLUDES(watch_mu_);

 private:
  struct Running;

  template <typename T>
  T OnLoop(std::function<T()> fn);
  StatusOr<worker::JobSpec> CheckSpec(const v1::Job& job);
  Status MigrateSpecs();
  StatusOr<v1::Job> Queue(v1::Job job, const std::string& request_id);
  Status CheckTenantQuotas(const v1::Job& job, const std::string& request_id);
  std::vector<Placement> PlaceWithinQuotas(const std::vector<v1::Job>& jobs, std::vector<QueuedJob> queue,
                                           const std::vector<std::string>& free);
  void StartTimeLimit(const std::string& name, Running* run);
  void PreemptFor(std::vector<QueuedJob> queue, int free_devices);
  void Requeue(v1::Job* job, const Running& run);
  StatusOr<v1::Job> CancelOnLoop(const std::string& name);
  void Schedule();
  void StartWorker(v1::Job job, const std::vector<std::string>& devices);
  worker::JobSpec WorkerSpec(const v1::Job& job, const std::vector<std::string>& devices) const;
  // `resume`: the checkpoint to pass as --resume ("" = start from scratch).
  std::vector<std::string> WorkerArgs(const v1::Job& job, const std::string& resume) const;
  // The newest checkpoint of `name` that verifies ("" when it has none), logging a warning
  // for each newer one skipped; an error when it has checkpoints and none verifies.
  StatusOr<std::string> ResumeCheckpoint(const std::string& name);
  void OnWorkerEvent(const std::string& name, const v1::WorkerEvent& event);
  void RecordWorkerEvent(v1::Job* job, const v1::WorkerEvent& event);
  void OnProtocolError(const std::string& name, const Status& error);
  void OnWorkerLog(const std::string& name, const std::string& line);
  void OnWorkerExit(const std::string& name, const ExitInfo& exit);
  void Finish(v1::Job job, const Running& run, const ExitInfo& exit);
  // Sets the state, stores the job with a state_change event, and wakes watchers.
  void SetState(v1::Job* job, v1::Job::State state, const std::string& reason);
  // Tells the usage ledger (if any) the job's state: from SetState, and from Queue for a
  // new job, which enters QUEUED without SetState. Every state a job takes passes here
  // once, so the ledger's queue length, state counts and queue waits match the store.
  void TellLedger(const v1::Job& job);
  void Record(const v1::Job& job, v1::JobEvent event);
  void Append(const std::string& name, v1::JobEvent event);
  void Notify() EXCLUDES(watch_mu_);
  std::string JobDir(const std::string& name) const;

  boost::asio::io_context& io_;
  JobStore* const store_;
  const JobManagerOptions options_;

  // Loop thread only.
  std::map<std::string, std::unique_ptr<Running>> running_;  // by job name
  std::map<std::string, std::string> holder_;                // device -> job name
  std::function<void()> drain_done_;
  std::atomic<bool> draining_{false};  // written on the loop, read anywhere

  mutable Mutex watch_mu_;
  std::condition_variable watch_cv_;
  uint64_t event_version_ GUARDED_BY(watch_mu_) = 0;
  bool shut_down_ GUARDED_BY(watch_mu_) = false;
};

// A fresh job id's resource name: "jobs/j-" and 12 random hex digits.
std::string NewJobName();
// True for a terminal state (CANCELLED, SUCCEEDED, FAILED).
bool IsTerminal(v1::Job::State state);

}  // namespace petabox::daemon
