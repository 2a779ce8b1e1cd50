#include "daemon/jobs/job_manager.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <google/protobuf/util/time_util.h>

#include "daemon/graph/graph_proto.h"
#include "daemon/jobs/tenant_quota.h"
#include "daemon/jobs/worker_events.h"
#include "daemon/scheduler/scheduler.h"
#include "daemon/store/dataset_names.h"
#include "daemon/telemetry/tenant.h"
#include "daemon/telemetry/usage_ledger.h"
#include "daemon/telemetry/worker_usage.h"
#include "daemon/worker/checkpoint.h"
#include "daemon/worker/job_spec_proto.h"

namespace petabox::daemon {

namespace fs = std::filesystem;
using google::protobuf::util::TimeUtil;

// A job whose worker process is alive.
struct JobManager::Running {
  std::shared_ptr<WorkerProcess> process;
  std::vector<std::string> devices;
  std::string tenant;      // TenantOfJob
  // Set when the tenant's max_job_seconds quota is set: stops the worker when it fires.
  std::unique_ptr<boost::asio::steady_timer> time_limit;
  std::string time_limit_reason;  // set when it fired: the job fails with it
  bool preempting = false;  // asked to stop for the owner's job: it returns to QUEUED
  int64_t last_step = 0;             // from progress events
  int64_t last_checkpoint_step = 0;  // from checkpoint and resumed events
  bool done = false;       // saw `done`
  bool preempted = false;  // saw `preempted`
  std::string error;       // the `error` event's message
  bool invalid_spec = false;   // the `error` event said the spec is invalid (no retry)
  std::string protocol_error;  // the events broke the worker protocol (the worker is killed)
  std::string last_log;    // the worker's last output line (why it exited, when no error event says)
  v1::JobResult result;
};

namespace {

google::protobuf::Timestamp Now() { return TimeUtil::GetCurrentTime(); }

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

v1::JobEvent StateEvent(const v1::Job& job, const std::string& reason) {
  v1::JobEvent event;
  auto* change = event.mutable_state_change();
  change->set_state(job.state());
  change->set_reason(reason);
  for (const std::string& d : job.devices()) change->add_devices(d);
  if (job.state() == v1::Job::SUCCEEDED) *change->mutable_result() = job.result();
  return event;
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return ec ? Unavailable("cannot write " + path + ": " + ec.message()) : Status::Ok();
}

// True when `path` (resolved) lies inside one of `dirs`.
bool InsideAny(const std::string& path, const std::vector<std::string>& dirs) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  if (ec) return false;
  for (const std::string& d : dirs) {
    const fs::path base = fs::weakly_canonical(d, ec);
    if (ec) continue;
    auto [b, q] = std::mismatch(base.begin(), base.end(), p.begin(), p.end());
    if (b == base.end()) return true;
  }
  return false;
}

}  // namespace

std::string NewJobName() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "jobs/j-";
  for (int i = 0; i < 12; ++i) id += kHex[gen() & 15];
  return id;
}

bool IsTerminal(v1::Job::State state) {
  return state == v1::Job::CANCELLED || state == v1::Job::SUCCEEDED || state == v1::Job::FAILED;
}

JobManager::JobManager(boost::asio::io_context& io, JobStore* store, JobManagerOptions options)
    : io_(io), store_(store), options_(std::move(options)) {}

JobManager::~JobManager() = default;

template <typename T>
T JobManager::OnLoop(std::function<T()> fn) {
  std::promise<T> promise;
  std::future<T> result = promise.get_future();
  boost::asio::post(io_, [&] { promise.set_value(fn()); });
  return result.get();
}

// ---- any thread

StatusOr<worker::JobSpec> JobManager::CheckSpec(const v1::Job& job) {
  if (job.spec_yaml().empty()) return InvalidArgument("job.spec_yaml is required (the job spec as YAML)");
  if (static_cast<int64_t>(job.spec_yaml().size()) > options_.max_spec_bytes) {
    return InvalidArgument("job.spec_yaml is " + std::to_string(job.spec_yaml().size()) + " bytes; the limit is " +
                           std::to_string(options_.max_spec_bytes));
  }
  if (job.priority() < -1000 || job.priority() > 1000) return InvalidArgument("job.priority must be in [-1000, 1000]");
  PB_ASSIGN_OR_RETURN(worker::JobSpec spec, worker::ParseJobSpec(job.spec_yaml(), "spec"));
  const int64_t want = worker::DeviceCount(spec);
  if (want > static_cast<int64_t>(options_.devices.size())) {
    return ResourceExhausted("spec: device_count: the job asks for " + std::to_string(want) +
                             " devices; this box has " + std::to_string(options_.devices.size()));
  }
  if (!spec.dataset.dir.empty() && !InsideAny(spec.dataset.dir, options_.dataset_dirs)) {
    return InvalidArgument("spec: dataset.dir: '" + spec.dataset.dir +
                           "' is outside the directories this daemon lets jobs read (config dataset_dirs: " +
                           JoinComma(options_.dataset_dirs) + ")");
  }
  if (spec.model == "graph" && job.graph().empty()) {
    return InvalidArgument("job.graph: the spec says model: graph, but no graph was sent with the job");
  }
  if (spec.model != "graph" && !job.graph().empty()) {
    return InvalidArgument("job.graph: a graph was sent, but the spec's model is '" + spec.model + "' (use model: graph)");
  }
  if (static_cast<int64_t>(job.graph().size()) > options_.max_graph_bytes) {
    return InvalidArgument("job.graph is " + std::to_string(job.graph().size()) + " bytes; this daemon accepts at most " +
                           std::to_string(options_.max_graph_bytes) + " (config limits.max_graph_bytes)");
  }
  // The graph is validated once here; the worker parses the file again (graph.pbgraph in
  // the job's directory) because a process boundary lies between them: the daemon keeps
  // no engine graph for it, and a file is how the bytes reach the other process.
  if (!job.graph().empty()) {
    auto graph = graph::ParseGraph(job.graph());
    if (!graph.ok()) return Status(graph.status().code(), "job.graph: " + graph.status().message());
  }
  const std::string tenant = TenantOfJob(job);
  PB_ASSIGN_OR_RETURN(v1::TenantQuota quota, QuotaOf(*store_, tenant));
  if (quota.max_devices() > 0 && want > quota.max_devices()) {
    return QuotaReached(tenant, "devices", quota.max_devices(), "the job asks for " + std::to_string(want));
  }
  // dataset_dirs may include the data directory, which holds every tenant's uploads and
  // checkpoints: a tenant reads only its own uploads there, through dataset.source.
  if (tenant != kOwnerTenant && !spec.dataset.dir.empty() && InsideAny(spec.dataset.dir, {options_.data_dir})) {
    return InvalidArgument("spec: dataset.dir: '" + spec.dataset.dir +
                           "' is inside the daemon's data directory, which tenants' jobs cannot read; use "
                           "dataset.source: datasets/NAME for an upload");
  }
  // A tenant's datasets/NAME is its own (daemon/store/dataset_names.h).
  const Principal owner_of = tenant == kOwnerTenant ? Principal::Owner() : Principal::Tenant(tenant);
  if (!spec.dataset.source.empty()) spec.dataset.source = DatasetKey(owner_of, spec.dataset.source);
  if (!spec.dataset.source.empty() && !store_->GetDataset(spec.dataset.source).ok()) {
    return FailedPrecondition("spec: dataset.source: " + DatasetNameFor(owner_of, spec.dataset.source) +
                              " does not exist on this box (petabox upload PATH --name NAME)");
  }
  return spec;
}

StatusOr<v1::Job> JobManager::CreateJob(v1::Job job, const std::string& request_id) {
  if (request_id.size() > 128) return InvalidArgument("request_id is longer than 128 characters");
  PB_ASSIGN_OR_RETURN(worker::JobSpec spec, CheckSpec(job));
  *job.mutable_spec() = worker::JobSpecToProto(spec);
  job.set_display_name(spec.name);
  job.set_device_count(static_cast<int32_t>(worker::DeviceCount(spec)));
  job.set_max_restarts(static_cast<int32_t>(spec.max_restarts));
  job.set_tenant(TenantOfJob(job));
  // Each tenant's request ids are its own: another tenant's id never returns its job.
  const std::string key = request_id.empty() || job.tenant() == kOwnerTenant ? request_id : job.tenant() + "\n" + request_id;
  return OnLoop<StatusOr<v1::Job>>([&]() { return Queue(std::move(job), key); });
}

StatusOr<v1::Job> JobManager::CancelJob(const std::string& name) {
  return OnLoop<StatusOr<v1::Job>>([&]() { return CancelOnLoop(name); });
}

std::vector<DeviceAssignment> JobManager::Devices() {
  return OnLoop<std::vector<DeviceAssignment>>([this]() {
    std::vector<DeviceAssignment> out;
    for (const std::string& d : options_.devices) {
      auto it = holder_.find(d);
      out.push_back({d, it == holder_.end() ? "" : it->second});
    }
    return out;
  });
}

int JobManager::QueueLength() {
  auto queued = store_->JobsInStates({v1::Job::QUEUED});
  return queued.ok() ? static_cast<int>(queued->size()) : 0;
}

int JobManager::RunningJobs() {
  return OnLoop<int>([this]() { return static_cast<int>(running_.size()); });
}

Status JobManager::CheckStorageQuota(const std::string& tenant, int64_t adding) const {
  return CheckStorage(*store_, options_.data_dir, tenant, adding);
}

bool JobManager::DatasetInUse(const std::string& dataset_name) {
  auto jobs = store_->JobsInStates({v1::Job::QUEUED, v1::Job::STARTING, v1::Job::RUNNING, v1::Job::CANCELLING});
  if (!jobs.ok()) return true;  // when unsure, keep the data
  for (const v1::Job& job : *jobs) {
    if (!job.has_spec() || job.spec().dataset().source() == dataset_name) return true;  // unsure: keep
  }
  return false;
}

uint64_t JobManager::EventVersion() const {
  MutexLock lock(watch_mu_);
  return event_version_;
}

void JobManager::WaitForEvents(uint64_t seen, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(watch_mu_);
  while (event_version_ == seen && !shut_down_) {
    if (!lock.WaitUntil(watch_cv_, deadline)) return;
  }
}

void JobManager::Shutdown() {
  MutexLock lock(watch_mu_);
  shut_down_ = true;
  watch_cv_.notify_all();
}

bool JobManager::shut_down() const {
  MutexLock lock(watch_mu_);
  return shut_down_;
}

void JobManager::Notify() {
  MutexLock lock(watch_mu_);
  ++event_version_;
  watch_cv_.notify_all();
}

std::string JobManager::JobDir(const std::string& name) const {
  return options_.data_dir + "/jobs/" + name.substr(name.find('/') + 1);
}

// ---- loop thread: recording

void JobManager::Record(const v1::Job& job, v1::JobEvent event) {
  *event.mutable_time() = Now();
  auto stored = store_->UpdateJobWithEvent(job, std::move(event));
  if (!stored.ok()) std::fprintf(stderr, "petaboxd: %s: cannot store event: %s\n", job.name().c_str(), stored.status().ToString().c_str());
  Notify();
}

void JobManager::Append(const std::string& name, v1::JobEvent event) {
  *event.mutable_time() = Now();
  auto stored = store_->AppendEvent(name, std::move(event));
  if (!stored.ok()) std::fprintf(stderr, "petaboxd: %s: cannot store event: %s\n", name.c_str(), stored.status().ToString().c_str());
  Notify();
}

namespace {

// One line per state change in the daemon's log (journalctl keeps the job history).
void LogJobState(const v1::Job& job, v1::Job::State from, const std::string& reason) {
  std::string devices;
  for (const std::string& d : job.devices()) devices += (devices.empty() ? " on " : ",") + d;
  const std::string was = from == v1::Job::STATE_UNSPECIFIED ? "new" : v1::Job::State_Name(from);
  std::fprintf(stderr, "petaboxd: job %s: %s -> %s%s: %s\n", job.name().c_str(), was.c_str(),
               v1::Job::State_Name(job.state()).c_str(), devices.c_str(), reason.c_str());
}

}  // namespace

void JobManager::SetState(v1::Job* job, v1::Job::State state, const std::string& reason) {
  const v1::Job::State from = job->state();
  job->set_state(state);
  if (state == v1::Job::FAILED || state == v1::Job::CANCELLED) job->set_failure_reason(reason);
  if (IsTerminal(state)) *job->mutable_end_time() = Now();
  if (state == v1::Job::QUEUED || IsTerminal(state)) job->clear_devices();
  TellLedger(*job);
  Record(*job, StateEvent(*job, reason));
  LogJobState(*job, from, reason);
}

void JobManager::TellLedger(const v1::Job& job) {
  if (options_.usage) options_.usage->OnJobState(job);
}

// ---- loop thread: queue, schedule, start

// Queued jobs and storage of the job's tenant, checked on the loop so that two creates
// cannot both take the last queue place. A retried create (a request id seen before)
// passes: it makes nothing new.
Status JobManager::CheckTenantQuotas(const v1::Job& job, const std::string& request_id) {
  const std::string tenant = TenantOfJob(job);
  if (tenant == kOwnerTenant) return Status::Ok();
  if (!request_id.empty() && store_->JobByRequestId(request_id).ok()) return Status::Ok();
  PB_ASSIGN_OR_RETURN(v1::TenantQuota quota, QuotaOf(*store_, tenant));
  PB_RETURN_IF_ERROR(CheckQueued(*store_, tenant, quota));
  return CheckStorage(*store_, options_.data_dir, tenant, 0);
}

StatusOr<v1::Job> JobManager::Queue(v1::Job job, const std::string& request_id) {
  if (draining_) return Unavailable("petaboxd is shutting down; submit again when it is back");
  PB_ASSIGN_OR_RETURN(std::vector<v1::Job> queued, store_->JobsInStates({v1::Job::QUEUED}));
  if (static_cast<int64_t>(queued.size()) >= options_.max_queued_jobs) {
    return ResourceExhausted(std::to_string(queued.size()) + " jobs are queued (config limits.max_queued_jobs); try later");
  }
  PB_RETURN_IF_ERROR(CheckTenantQuotas(job, request_id));
  job.set_name(NewJobName());
  job.set_state(v1::Job::QUEUED);
  *job.mutable_create_time() = Now();
  std::error_code ec;
  fs::create_directories(JobDir(job.name()) + "/checkpoints", ec);
  if (ec) return Unavailable("cannot create " + JobDir(job.name()) + ": " + ec.message());
  if (!job.graph().empty()) {  // the worker's (--graph); the store keeps jobs without it
    PB_RETURN_IF_ERROR(WriteFileAtomically(JobDir(job.name()) + "/graph.pbgraph", job.graph()));
    job.clear_graph();
  }
  bool created = false;
  PB_ASSIGN_OR_RETURN(v1::Job stored, store_->CreateJob(job, request_id, &created));
  if (!created) {
    fs::remove_all(JobDir(job.name()), ec);
    return stored;
  }
  TellLedger(stored);  // before Schedule, which may start it: the ledger times its wait
  Append(stored.name(), StateEvent(stored, "queued"));
  LogJobState(stored, v1::Job::STATE_UNSPECIFIED, "submitted");
  Schedule();
  return stored;
}

void JobManager::Schedule() {
  if (draining_) return;
  auto queued = store_->JobsInStates({v1::Job::QUEUED});
  if (!queued.ok() || queued->empty()) return;
  // Tenants' jobs run only while no job of the owner waits (so devices freed by a
  // preemption go to the owner's job, and a tenant's job never takes them back).
  const bool owner_waits = std::any_of(queued->begin(), queued->end(), [](const v1::Job& j) { return !IsTenantJob(j); });
  std::vector<QueuedJob> queue;
  for (size_t i = 0; i < queued->size(); ++i) {
    const v1::Job& j = (*queued)[i];
    if (owner_waits && IsTenantJob(j)) continue;
    queue.push_back({j.name(), j.priority(), static_cast<int64_t>(i), std::max(1, j.device_count())});
  }
  std::vector<std::string> free;
  for (const std::string& d : options_.devices) {
    if (!holder_.count(d)) free.push_back(d);
  }
  const size_t free_before = free.size();
  int placed_devices = 0;
  for (const Placement& p : PlaceWithinQuotas(*queued, queue, std::move(free))) {
    auto job = std::find_if(queued->begin(), queued->end(), [&](const v1::Job& j) { return j.name() == p.name; });
    placed_devices += static_cast<int>(p.devices.size());
    std::erase_if(queue, [&](const QueuedJob& q) { return q.name == p.name; });
    StartWorker(*job, p.devices);
  }
  if (owner_waits) PreemptFor(std::move(queue), static_cast<int>(free_before) - placed_devices);
}

// The owner's first waiting job in scheduling order (highest priority, then oldest) gets
// the devices of tenants' jobs: the lowest-priority, newest of them are asked to stop
// (they checkpoint within the grace period and return to QUEUED as PREEMPTED, Finish).
// Jobs asked already count as freeing their devices, so calls in a row ask no more.
void JobManager::PreemptFor(std::vector<QueuedJob> queue, int free_devices) {
  std::sort(queue.begin(), queue.end(), [](const QueuedJob& a, const QueuedJob& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.order < b.order;
  });
  if (queue.empty()) return;
  const int need = queue.front().device_count;
  int coming = free_devices;
  std::vector<std::pair<std::string, Running*>> tenants;
  for (auto& [name, run] : running_) {
    if (run->tenant == kOwnerTenant) continue;
    if (run->preempting) coming += static_cast<int>(run->devices.size());
    else tenants.emplace_back(name, run.get());
  }
  if (coming >= need) return;
  struct Candidate {
    int priority;
    int64_t created;  // Unix seconds
    std::string name;
  };
  std::vector<Candidate> order;
  for (const auto& [name, run] : tenants) {
    auto job = store_->GetJob(name);
    order.push_back({job.ok() ? job->priority() : 0, job.ok() ? job->create_time().seconds() : 0, name});
  }
  std::sort(order.begin(), order.end(), [](const Candidate& a, const Candidate& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.created > b.created;
  });
  int reachable = coming;
  for (const auto& [name, run] : tenants) reachable += static_cast<int>(run->devices.size());
  if (reachable < need) return;  // even all of them would not make room: preempt none
  for (const Candidate& c : order) {
    if (coming >= need) break;
    const std::string& name = c.name;
    Running& run = *running_[name];
    run.preempting = true;
    run.process->RequestStop(options_.stop_grace);
    coming += static_cast<int>(run.devices.size());
    v1::JobEvent event;
    event.mutable_log()->set_text("preempting: the box owner's work needs the devices; checkpointing");
    Append(name, std::move(event));
  }
}

// PlaceJobs, less the placements that would take a tenant past its devices quota: such a
// job is left out of the queue (it waits; nothing else waits behind it) and the rest is
// placed again.
std::vector<Placement> JobManager::PlaceWithinQuotas(const std::vector<v1::Job>& jobs, std::vector<QueuedJob> queue,
                                                     const std::vector<std::string>& free) {
  std::map<std::string, int64_t> limit;  // tenant -> max_devices (0: none)
  for (const v1::Job& j : jobs) {
    const std::string tenant = TenantOfJob(j);
    if (!limit.count(tenant)) limit[tenant] = QuotaOrNone(*store_, tenant).max_devices();
  }
  const auto tenant_of = [&](const std::string& name) {
    for (const v1::Job& j : jobs) {
      if (j.name() == name) return TenantOfJob(j);
    }
    return std::string(kOwnerTenant);
  };
  while (true) {
    std::vector<Placement> placements = PlaceJobs(queue, free);
    std::map<std::string, int64_t> held;
    for (const auto& [name, run] : running_) held[run->tenant] += static_cast<int64_t>(run->devices.size());
    auto over = std::find_if(placements.begin(), placements.end(), [&](const Placement& p) {
      const std::string tenant = tenant_of(p.name);
      held[tenant] += static_cast<int64_t>(p.devices.size());
      return limit[tenant] > 0 && held[tenant] > limit[tenant];
    });
    if (over == placements.end()) return placements;
    std::erase_if(queue, [&](const QueuedJob& q) { return q.name == over->name; });
  }
}

// The job's typed spec completed for its worker: the devices it was given, its own
// directories, the graph uploaded with it, the daemon's default checkpoint interval. Valid
// by construction (the stored spec was validated at CreateJob, and the devices number
// what it asked for), so the worker checks nothing again.
worker::JobSpec JobManager::WorkerSpec(const v1::Job& job, const std::vector<std::string>& devices) const {
  const std::string dir = JobDir(job.name());
  worker::JobSpec spec = worker::JobSpecFromProto(job.spec());
  spec.devices = devices;
  spec.device_count = 0;
  spec.checkpoint.dir = dir + "/checkpoints";
  if (spec.checkpoint.interval_steps == 0) spec.checkpoint.interval_steps = options_.default_checkpoint_interval;
  if (!spec.dataset.source.empty()) spec.dataset.dir = options_.data_dir + "/" + spec.dataset.source;
  if (spec.model == "graph") spec.graph = dir + "/graph.pbgraph";
  return spec;
}

std::vector<std::string> JobManager::WorkerArgs(const v1::Job& job, const std::string& resume) const {
  const std::string dir = JobDir(job.name());
  std::vector<std::string> argv = {options_.worker_binary, "--spec-proto", dir + "/spec.pb", "--events", "/dev/fd/3",
                                   "--events-format", "proto", "--stop-with-parent"};
  if (options_.usage_interval_seconds > 0) {
    argv.insert(argv.end(), {"--usage-interval", std::to_string(options_.usage_interval_seconds)});
  }
  if (!resume.empty()) argv.insert(argv.end(), {"--resume", resume});
  return argv;
}

StatusOr<std::string> JobManager::ResumeCheckpoint(const std::string& name) {
  auto good = worker::LatestGoodCheckpoint(JobDir(name) + "/checkpoints");
  if (!good.ok() && good.status().code() == StatusCode::kNotFound) return std::string();
  if (!good.ok()) return good.status();
  for (const std::string& why : good->skipped) OnWorkerLog(name, "warning: skipping a damaged checkpoint: " + why);
  return good->path;
}

void JobManager::StartWorker(v1::Job job, const std::vector<std::string>& devices) {
  if (!job.has_spec()) return SetState(&job, v1::Job::FAILED, "the job was stored without its typed spec (Job.spec); submit it again");
  const std::string name = job.name();
  std::error_code ec;
  fs::create_directories(JobDir(name) + "/checkpoints", ec);  // there since Queue, unless removed meanwhile
  Status written = worker::WriteJobSpecFile(JobDir(name) + "/spec.pb", WorkerSpec(job, devices));
  if (!written.ok()) return SetState(&job, v1::Job::FAILED, "cannot start petabox-worker: " + written.ToString());
  WorkerCallbacks callbacks;
  callbacks.on_event = [this, name](const v1::WorkerEvent& event) { OnWorkerEvent(name, event); };
  callbacks.on_protocol_error = [this, name](const Status& error) { OnProtocolError(name, error); };
  callbacks.on_log = [this, name](const std::string& line) { OnWorkerLog(name, line); };
  callbacks.on_exit = [this, name](const ExitInfo& exit) { OnWorkerExit(name, exit); };
  auto resume = ResumeCheckpoint(name);
  if (!resume.ok()) return SetState(&job, v1::Job::FAILED, "cannot resume: " + resume.status().ToString());
  auto process = WorkerProcess::Start(io_, WorkerArgs(job, *resume), options_.worker_env, callbacks);
  if (!process.ok()) return SetState(&job, v1::Job::FAILED, "cannot start petabox-worker: " + process.status().ToString());
  auto run = std::make_unique<Running>();
  run->process = std::move(*process);
  run->devices = devices;
  run->tenant = TenantOfJob(job);
  StartTimeLimit(name, run.get());
  for (const std::string& d : devices) holder_[d] = name;
  running_[name] = std::move(run);
  job.clear_devices();
  for (const std::string& d : devices) job.add_devices(d);
  if (!job.has_start_time()) *job.mutable_start_time() = Now();
  SetState(&job, v1::Job::STARTING, "worker process started");
}

// A tenant's max_job_seconds: when it passes, the worker is asked to stop (killed after
// the grace period) and the job fails with the reason (Finish).
void JobManager::StartTimeLimit(const std::string& name, Running* run) {
  const int64_t seconds = QuotaOrNone(*store_, run->tenant).max_job_seconds();
  if (seconds <= 0) return;
  run->time_limit = std::make_unique<boost::asio::steady_timer>(io_, std::chrono::seconds(seconds));
  run->time_limit->async_wait([this, name, seconds](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the worker exited first
    auto it = running_.find(name);
    if (it == running_.end()) return;
    it->second->time_limit_reason =
        QuotaReached(it->second->tenant, "job seconds", seconds, "the job ran that long and was stopped").message();
    it->second->process->RequestStop(options_.stop_grace);
  });
}

// ---- loop thread: what the worker says

// The last events and usage are kept for the exit; the others go to the store.
void JobManager::OnWorkerEvent(const std::string& name, const v1::WorkerEvent& event) {
  auto it = running_.find(name);
  if (it == running_.end()) return;
  Running& run = *it->second;
  switch (event.event_case()) {
    case v1::WorkerEvent::kProgress:
      run.last_step = event.progress().step();
      break;
    case v1::WorkerEvent::kCheckpoint:
      run.last_checkpoint_step = event.checkpoint().step();
      break;
    case v1::WorkerEvent::kResumed:
      run.last_checkpoint_step = run.last_step = event.resumed().step();
      break;
    case v1::WorkerEvent::kDone:
      run.done = true;
      run.result = ToResult(event.done());
      return;
    case v1::WorkerEvent::kPreempted:
      run.preempted = true;
      return;
    case v1::WorkerEvent::kError:
      run.error = event.error().message();
      run.invalid_spec = event.error().reason() == v1::WorkerError::INVALID_SPEC;
      return;
    case v1::WorkerEvent::kUsage:
      if (options_.usage) options_.usage->OnWorkerUsage(name, ToWorkerUsage(event.usage()));
      return;
    default:
      break;
  }
  auto job = store_->GetJob(name);
  if (job.ok()) RecordWorkerEvent(&*job, event);
}

void JobManager::RecordWorkerEvent(v1::Job* job, const v1::WorkerEvent& event) {
  v1::JobEvent out;
  switch (event.event_case()) {
    case v1::WorkerEvent::kStarted:
      if (job->state() == v1::Job::STARTING) SetState(job, v1::Job::RUNNING, "training started");
      return;
    case v1::WorkerEvent::kProgress:
      *out.mutable_progress() = ToProgress(event.progress());
      *job->mutable_progress() = out.progress();
      return Record(*job, std::move(out));
    case v1::WorkerEvent::kEval:
      *out.mutable_eval() = ToEval(event.eval());
      return Append(job->name(), std::move(out));
    case v1::WorkerEvent::kCheckpoint:
      *out.mutable_checkpoint() = ToCheckpointSaved(event.checkpoint());
      job->set_has_checkpoint(true);
      return Record(*job, std::move(out));
    case v1::WorkerEvent::kResumed:
      out.mutable_log()->set_text("resumed from the checkpoint at step " + std::to_string(event.resumed().step()));
      return Append(job->name(), std::move(out));
    case v1::WorkerEvent::kLog:
      out.mutable_log()->set_text(event.log().text());
      return Append(job->name(), std::move(out));
    default:
      return;
  }
}

// A worker that breaks the protocol cannot be understood any more: it is killed, and its
// job fails with the error when it has exited (Finish).
void JobManager::OnProtocolError(const std::string& name, const Status& error) {
  auto it = running_.find(name);
  if (it == running_.end()) return;
  it->second->protocol_error = error.message();
  it->second->process->Kill();
}

void JobManager::OnWorkerLog(const std::string& name, const std::string& line) {
  if (auto it = running_.find(name); it != running_.end() && !line.empty()) it->second->last_log = line;
  (void)store_->AppendLogs(name, {line});
  v1::JobEvent event;
  event.mutable_log()->set_text(line);
  Append(name, std::move(event));
}

void JobManager::OnWorkerExit(const std::string& name, const ExitInfo& exit) {
  auto it = running_.find(name);
  if (it == running_.end()) return;
  std::unique_ptr<Running> run = std::move(it->second);
  running_.erase(it);
  for (const std::string& d : run->devices) holder_.erase(d);
  // The process object is inside the callback that is running now: destroy it later.
  boost::asio::post(io_, [process = run->process] {});
  auto job = store_->GetJob(name);
  if (job.ok()) Finish(std::move(*job), *run, exit);
  if (draining_) {
    if (running_.empty() && drain_done_) std::exchange(drain_done_, nullptr)();
    return;
  }
  Schedule();
}

void JobManager::Finish(v1::Job job, const Running& run, const ExitInfo& exit) {
  const bool clean = !exit.signaled && exit.exit_code == 0;
  if (job.state() == v1::Job::CANCELLING) return SetState(&job, v1::Job::CANCELLED, "cancelled by request");
  if (!run.protocol_error.empty()) {
    return SetState(&job, v1::Job::FAILED, run.protocol_error + " (petabox-worker " + exit.ToString() + ")");
  }
  if (clean && run.done) {
    *job.mutable_result() = run.result;
    return SetState(&job, v1::Job::SUCCEEDED, "finished");
  }
  if (!run.time_limit_reason.empty()) return SetState(&job, v1::Job::FAILED, run.time_limit_reason);
  if (run.preempting && !draining_) return Requeue(&job, run);
  if (draining_) return SetState(&job, v1::Job::QUEUED, "petaboxd stopped; the job resumes from its last checkpoint");
  if (clean && run.preempted) return SetState(&job, v1::Job::QUEUED, "the worker was stopped from outside; requeued");
  const std::string said = !run.error.empty() ? run.error : run.last_log;
  const std::string why = said.empty() ? "worker " + exit.ToString() : said + " (worker " + exit.ToString() + ")";
  const bool retryable = !run.invalid_spec && !(!exit.signaled && exit.exit_code == 2);  // 2: the spec itself is bad
  if (retryable && job.restarts() < job.max_restarts()) {
    job.set_restarts(job.restarts() + 1);
    return SetState(&job, v1::Job::QUEUED, why + "; restart " + std::to_string(job.restarts()) + " of " +
                                               std::to_string(job.max_restarts()) + " from the last checkpoint");
  }
  SetState(&job, v1::Job::FAILED, why);
}

// A preempted job: back to QUEUED, not counted as a restart; the work since its last
// checkpoint is lost (none when it checkpointed on the way out, as workers do on SIGTERM).
void JobManager::Requeue(v1::Job* job, const Running& run) {
  const int64_t lost = std::max<int64_t>(0, run.last_step - run.last_checkpoint_step);
  job->set_preemptions(job->preemptions() + 1);
  job->set_preempted_steps_lost(job->preempted_steps_lost() + lost);
  SetState(job, v1::Job::QUEUED,
           "PREEMPTED: the box owner's job needed the devices; resumes from its checkpoint at step " +
               std::to_string(run.last_checkpoint_step) + " (" + std::to_string(lost) + " steps lost)");
}

// ---- loop thread: cancel, drain, recover

StatusOr<v1::Job> JobManager::CancelOnLoop(const std::string& name) {
  PB_ASSIGN_OR_RETURN(v1::Job job, store_->GetJob(name));
  if (IsTerminal(job.state())) {
    return FailedPrecondition(name + " already ended (" + v1::Job::State_Name(job.state()) + ")");
  }
  if (job.state() == v1::Job::QUEUED) {
    SetState(&job, v1::Job::CANCELLED, "cancelled by request while queued");
    return job;
  }
  if (job.state() == v1::Job::CANCELLING) return job;
  auto it = running_.find(name);
  if (it != running_.end()) it->second->process->RequestStop(options_.stop_grace);
  SetState(&job, v1::Job::CANCELLING, "cancel requested: stopping at the next step");
  return job;
}

void JobManager::Drain(std::function<void()> done) {
  boost::asio::post(io_, [this, done = std::move(done)]() mutable {
    draining_ = true;
    if (running_.empty()) return done();
    drain_done_ = std::move(done);
    for (auto& [name, run] : running_) run->process->RequestStop(options_.stop_grace);
  });
}

bool JobManager::draining() const { return draining_.load(); }

// Jobs stored with spec_yaml only (by a daemon before the typed spec) that may still run:
// their YAML parsed once, the typed spec stored; a spec that no longer validates fails its
// job, as it would have at its worker's start.
Status JobManager::MigrateSpecs() {
  PB_ASSIGN_OR_RETURN(auto jobs, store_->JobsInStates({v1::Job::QUEUED, v1::Job::STARTING, v1::Job::RUNNING,
                                                       v1::Job::CANCELLING}));
  for (v1::Job& job : jobs) {
    if (job.has_spec()) continue;
    auto spec = worker::ParseJobSpec(job.spec_yaml(), "spec");
    if (!spec.ok()) {
      if (job.state() != v1::Job::CANCELLING) SetState(&job, v1::Job::FAILED, spec.status().ToString());
      continue;  // a CANCELLING job becomes CANCELLED in Recover, spec or not
    }
    *job.mutable_spec() = worker::JobSpecToProto(*spec);
    PB_RETURN_IF_ERROR(store_->UpdateJob(job));
  }
  return Status::Ok();
}

Status JobManager::Recover() {
  return OnLoop<Status>([this]() -> Status {
    PB_RETURN_IF_ERROR(MigrateSpecs());
    PB_ASSIGN_OR_RETURN(auto jobs, store_->JobsInStates({v1::Job::STARTING, v1::Job::RUNNING, v1::Job::CANCELLING}));
    for (v1::Job& job : jobs) {
      if (job.state() == v1::Job::CANCELLING) SetState(&job, v1::Job::CANCELLED, "cancelled (petaboxd restarted)");
      else SetState(&job, v1::Job::QUEUED, "petaboxd restarted; the job resumes from its last checkpoint");
    }
    Schedule();
    return Status::Ok();
  });
}

}  // namespace petabox::daemon
