// petabox-worker: trains one job spec in this process (daemon/worker/runner.h).
//
//   petabox-worker --job SPEC.yaml | --spec-proto FILE
//                  [--json] [--resume CHECKPOINT] [--events FILE|-] [--events-format json|proto]
//                  [--no-jit] [--stop-with-parent] [--usage-interval SECONDS]
//                  [--devices D1,D2,...] [--checkpoint-dir DIR] [--dataset-dir DIR] [--graph FILE]
//                  [--default-checkpoint-interval N]
//
// The spec: --job parses and validates a YAML spec (by hand; the spec's errors exit 2);
// --spec-proto reads the typed spec petaboxd parsed, validated and completed (a serialized
// petabox.v1.JobSpec, daemon/worker/job_spec_proto.h) and checks nothing again.
// With --job, --devices, --checkpoint-dir and --dataset-dir replace the spec's devices,
// checkpoint.dir and dataset.dir; --graph replaces the spec's graph file;
// --default-checkpoint-interval sets checkpoint.interval_steps when the spec sets none; the
// result is validated once. With --spec-proto they are refused (the spec is complete).
// --stop-with-parent turns the death of the parent (petaboxd killed with SIGKILL) into a
// SIGTERM: the worker checkpoints and stops instead of training on unsupervised.
// --usage-interval > 0 emits `usage` events (per-device kernel time and FLOPs,
// daemon/worker/usage_meter.h) at most that often, and once more at the end; petaboxd
// passes its telemetry interval. 0 (the default) counts nothing.
// Two workers never write one checkpoint directory at once: the second waits for the
// first to exit (a lock file in the directory).
// Events (petabox.v1.WorkerEvent, proto/petabox/v1/worker.proto) go to stderr, or to
// --events (a file, or "-" for stdout), as JSON lines, or length-delimited binary with
// --events-format proto (what petaboxd reads). Without --json, readable progress lines go
// to stdout; with --json, stdout's last line is the RunSummary as JSON (or
// {"error":{...}}). SIGTERM checkpoints at the next step boundary and exits 0 with a
// `preempted` event. Exit codes: 0 done or preempted, 1 the job failed, 2 bad usage or an
// invalid spec.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "daemon/worker/events.h"
#include "daemon/worker/job_spec.h"
#include "daemon/worker/job_spec_proto.h"
#include "daemon/worker/runner.h"
#include "daemon/worker/usage_meter.h"
#include "devices/registry.h"
#include "engine/device_source.h"

namespace {

using petabox::Status;
using petabox::StatusOr;
using petabox::v1::WorkerError;
using petabox::v1::WorkerEvent;
using petabox::worker::EventWriter;
using petabox::worker::JobSpec;

// Set by the SIGTERM handler; the runner polls it between steps.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void OnSigterm(int) { g_stop_requested.store(true); }

struct Args {
  std::string job;         // YAML spec
  std::string spec_proto;  // typed spec from petaboxd
  std::string resume;
  std::string events;  // "" = stderr
  std::string events_format = "json";
  std::string devices;         // comma-separated; "" keeps the spec's
  std::string checkpoint_dir;  // "" keeps the spec's
  std::string dataset_dir;     // "" keeps the spec's
  std::string graph;           // "" keeps the spec's
  int64_t default_checkpoint_interval = 0;
  double usage_interval = 0;  // seconds; 0: no usage events
  bool stop_with_parent = false;
  bool json = false;
  bool jit = true;

  bool HasOverrides() const {
    return !devices.empty() || !checkpoint_dir.empty() || !dataset_dir.empty() || !graph.empty() ||
           default_checkpoint_interval != 0;
  }
};

constexpr char kUsage[] =
    "usage: petabox-worker --job SPEC.yaml | --spec-proto FILE\n"
    "                      [--json] [--resume CHECKPOINT] [--events FILE|-] [--events-format json|proto]\n"
    "                      [--no-jit] [--stop-with-parent] [--usage-interval SECONDS]\n"
    "                      [--devices D1,D2,...] [--checkpoint-dir DIR] [--dataset-dir DIR] [--graph FILE]\n"
    "                      [--default-checkpoint-interval N]\n";

// The value of string option `a`, or null when `a` is not one.
std::string* StringOption(const std::string& a, Args* args) {
  if (a == "--job") return &args->job;
  if (a == "--spec-proto") return &args->spec_proto;
  if (a == "--resume") return &args->resume;
  if (a == "--events") return &args->events;
  if (a == "--events-format") return &args->events_format;
  if (a == "--devices") return &args->devices;
  if (a == "--checkpoint-dir") return &args->checkpoint_dir;
  if (a == "--dataset-dir") return &args->dataset_dir;
  if (a == "--graph") return &args->graph;
  return nullptr;
}

bool UsageError(const std::string& why) {
  std::fprintf(stderr, "petabox-worker: %s\n%s", why.c_str(), kUsage);
  return false;
}

// Parses argv into *args; returns false (after printing why) on bad usage.
bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") args->json = true;
    else if (a == "--no-jit") args->jit = false;
    else if (a == "--stop-with-parent") args->stop_with_parent = true;
    else if (std::string* value = StringOption(a, args); value && has_value) *value = argv[++i];
    else if (a == "--default-checkpoint-interval" && has_value) args->default_checkpoint_interval = std::atoll(argv[++i]);
    else if (a == "--usage-interval" && has_value) args->usage_interval = std::atof(argv[++i]);
    else return UsageError("unexpected argument '" + a + "'");
  }
  if (args->job.empty() == args->spec_proto.empty()) return UsageError("give one of --job and --spec-proto");
  if (!args->spec_proto.empty() && args->HasOverrides()) {
    return UsageError("--spec-proto takes a complete spec: no --devices, --checkpoint-dir, --dataset-dir, --graph "
                      "or --default-checkpoint-interval");
  }
  return true;
}

// Reports a failure as an `error` event, and on stdout (--json, {"error":{...}}) or
// stderr; returns the exit code.
int Fail(const Args& args, EventWriter* events, const Status& status, WorkerError::Reason reason, int code) {
  WorkerEvent event;
  event.mutable_error()->set_reason(reason);
  event.mutable_error()->set_message(status.ToString());
  if (args.json) std::printf("%s\n", petabox::worker::ToJsonLine(event).c_str());  // before Emit stamps the time
  else std::fprintf(stderr, "petabox-worker: %s\n", status.ToString().c_str());
  events->Emit(std::move(event));
  return code;
}

std::vector<std::string> SplitCommas(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The command line's overrides, applied to the YAML spec before it is validated.
void ApplyOverrides(const Args& args, JobSpec& spec) {
  if (!args.devices.empty()) {
    spec.devices = SplitCommas(args.devices);
    spec.device_count = 0;
  }
  if (!args.checkpoint_dir.empty()) spec.checkpoint.dir = args.checkpoint_dir;
  if (!args.dataset_dir.empty()) spec.dataset.dir = args.dataset_dir;
  if (!args.graph.empty()) spec.graph = args.graph;
  if (spec.checkpoint.interval_steps == 0) spec.checkpoint.interval_steps = args.default_checkpoint_interval;
}

// The spec: petaboxd's typed one as it is, or the YAML parsed and validated once, with the
// command line's overrides.
StatusOr<JobSpec> LoadSpec(const Args& args) {
  if (!args.spec_proto.empty()) return petabox::worker::ReadJobSpecFile(args.spec_proto);
  petabox::worker::SpecParseOptions options;
  options.amend = [&args](JobSpec& spec) { ApplyOverrides(args, spec); };
  PB_ASSIGN_OR_RETURN(JobSpec spec, petabox::worker::LoadJobSpec(args.job, options));
  if (spec.checkpoint.interval_steps > 0 && spec.checkpoint.dir.empty()) {
    return petabox::InvalidArgument(args.job + ": checkpoint.dir: must be set when checkpoint.interval_steps > 0 "
                                    "(or pass --checkpoint-dir)");
  }
  return spec;
}

// Holds an exclusive lock on dir/.lock until the process exits (waiting for a previous
// worker of the same job, e.g. one left behind by a daemon killed with SIGKILL).
Status LockCheckpointDir(const std::string& dir, EventWriter* events) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return petabox::Unavailable(path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
  WorkerEvent waiting;
  waiting.mutable_log()->set_text("waiting for another worker to release " + dir);
  events->Emit(std::move(waiting));
  if (::flock(fd, LOCK_EX) != 0) return petabox::Unavailable(path + ": " + std::strerror(errno));
  return Status::Ok();
}

// The usage meter (--usage-interval), hooked into the runner's steps; null when off.
std::unique_ptr<petabox::worker::UsageMeter> MakeUsageMeter(const Args& args, const JobSpec& spec,
                                                            EventWriter* events,
                                                            petabox::worker::RunnerOptions* options) {
  if (args.usage_interval <= 0) return nullptr;
  auto usage = std::make_unique<petabox::worker::UsageMeter>(petabox::worker::MeteredDevices(spec.devices),
                                                             args.usage_interval);
  options->on_step = [meter = usage.get(), events](double seconds, int64_t samples) {
    meter->OnStep(seconds, samples);
    meter->MaybeEmit(events);
  };
  return usage;
}

int Run(const Args& args, EventWriter* events) {
  auto spec = LoadSpec(args);
  if (!spec.ok()) return Fail(args, events, spec.status(), WorkerError::INVALID_SPEC, 2);
  if (!spec->checkpoint.dir.empty()) {
    if (Status s = LockCheckpointDir(spec->checkpoint.dir, events); !s.ok()) {
      return Fail(args, events, s, WorkerError::SETUP_FAILED, 1);
    }
  }
  petabox::worker::RunnerOptions options;
  options.resume_from = args.resume;
  options.use_jit = args.jit;
  options.log = args.json ? nullptr : stdout;
  options.stop_requested = &g_stop_requested;
  std::unique_ptr<petabox::worker::UsageMeter> usage = MakeUsageMeter(args, *spec, events, &options);
  auto runner = petabox::worker::Runner::Create(*spec, options, events);
  if (usage) usage->MaybeEmit(events, /*force=*/!runner.ok());  // what setup ran, if it failed
  if (!runner.ok()) return Fail(args, events, runner.status(), WorkerError::SETUP_FAILED, 1);
  auto result = (*runner)->Run();
  if (usage) usage->MaybeEmit(events, /*force=*/true);  // what ran since the last report
  if (!result.ok()) return Fail(args, events, result.status(), WorkerError::TRAINING_FAILED, 1);
  const std::string summary = petabox::worker::ToJsonLine(petabox::worker::Summary(*result));
  if (args.json) std::printf("%s\n", summary.c_str());
  else std::printf("%s: %s\n", result->preempted ? "preempted" : "done", summary.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  petabox::InstallDeviceSource(&petabox::DeviceRegistry::Global());
  Args args;
  if (!ParseArgs(argc, argv, &args)) return 2;
  std::signal(SIGTERM, OnSigterm);
  // A closed events pipe (the daemon died) must not kill the worker before it checkpoints.
  std::signal(SIGPIPE, SIG_IGN);
  if (args.stop_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  auto format = petabox::worker::ParseEventFormat(args.events_format);
  if (!format.ok()) {
    std::fprintf(stderr, "petabox-worker: %s\n%s", format.status().message().c_str(), kUsage);
    return 2;
  }
  auto events = EventWriter::Open(args.events, *format);
  if (!events.ok()) {
    std::fprintf(stderr, "petabox-worker: %s\n", events.status().ToString().c_str());
    return 2;
  }
  return Run(args, events->get());
}
