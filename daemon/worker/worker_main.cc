// petabox-worker: trains one job spec in this process (daemon/worker/runner.h).
//
//   petabox-worker --job SPEC.yaml [--json] [--resume CHECKPOINT] [--events FILE|-] [--no-jit]
//                  [--devices D1,D2,...] [--checkpoint-dir DIR] [--dataset-dir DIR] [--graph FILE]
//                  [--default-checkpoint-interval N] [--stop-with-parent] [--usage-interval SECONDS]
//
// --devices, --checkpoint-dir and --dataset-dir replace the spec's devices, checkpoint.dir
// and dataset.dir (petaboxd passes the devices it assigned and the job's own directories);
// --graph replaces the spec's graph file (petaboxd passes the one uploaded with the job);
// --default-checkpoint-interval sets checkpoint.interval_steps when the spec sets none.
// --stop-with-parent turns the death of the parent (petaboxd killed with SIGKILL) into a
// SIGTERM: the worker checkpoints and stops instead of training on unsupervised.
// --usage-interval > 0 emits "usage" events (per-device kernel time and FLOPs,
// daemon/worker/usage_meter.h) at most that often, and once more at the end; petaboxd
// passes its telemetry interval. 0 (the default) counts nothing.
// Two workers never write one checkpoint directory at once: the second waits for the
// first to exit (a lock file in the directory).
// Events (JSON lines) go to stderr, or to --events (a file, or "-" for stdout). Without
// --json, readable progress lines go to stdout; with --json, stdout's last line is the
// result object (or {"error": ...}). SIGTERM checkpoints at the next step boundary and
// exits 0 with a "preempted" event. Exit codes: 0 done or preempted, 1 the job failed,
// 2 bad usage or an invalid spec.
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
#include "daemon/worker/runner.h"
#include "daemon/worker/usage_meter.h"
#include "devices/registry.h"
#include "engine/device_source.h"

namespace {

using petabox::Status;
using petabox::StatusOr;
using petabox::worker::EventWriter;
using petabox::worker::JsonObject;

// Set by the SIGTERM handler; the runner polls it between steps.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void OnSigterm(int) { g_stop_requested.store(true); }

struct Args {
  std::string job;
  std::string resume;
  std::string events;  // "" = stderr
  std::string devices;         // comma-separated; "" keeps the spec's
  std::string checkpoint_dir;  // "" keeps the spec's
  std::string dataset_dir;     // "" keeps the spec's
  std::string graph;           // "" keeps the spec's
  int64_t default_checkpoint_interval = 0;
  double usage_interval = 0;  // seconds; 0: no usage events
  bool stop_with_parent = false;
  bool json = false;
  bool jit = true;
};

constexpr char kUsage[] =
    "usage: petabox-worker --job SPEC.yaml [--json] [--resume CHECKPOINT] [--events FILE|-] [--no-jit]\n"
    "                      [--devices D1,D2,...] [--checkpoint-dir DIR] [--dataset-dir DIR] [--graph FILE]\n"
    "                      [--default-checkpoint-interval N] [--stop-with-parent] [--usage-interval SECONDS]\n";

// Parses argv into *args; returns false (after printing why) on bad usage.
bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") args->json = true;
    else if (a == "--no-jit") args->jit = false;
    else if (a == "--stop-with-parent") args->stop_with_parent = true;
    else if (a == "--job" && has_value) args->job = argv[++i];
    else if (a == "--resume" && has_value) args->resume = argv[++i];
    else if (a == "--events" && has_value) args->events = argv[++i];
    else if (a == "--devices" && has_value) args->devices = argv[++i];
    else if (a == "--checkpoint-dir" && has_value) args->checkpoint_dir = argv[++i];
    else if (a == "--dataset-dir" && has_value) args->dataset_dir = argv[++i];
    else if (a == "--graph" && has_value) args->graph = argv[++i];
    else if (a == "--default-checkpoint-interval" && has_value) args->default_checkpoint_interval = std::atoll(argv[++i]);
    else if (a == "--usage-interval" && has_value) args->usage_interval = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "petabox-worker: unexpected argument '%s'\n%s", a.c_str(), kUsage);
      return false;
    }
  }
  if (args->job.empty()) std::fprintf(stderr, "petabox-worker: --job is required\n%s", kUsage);
  return !args->job.empty();
}

// Reports a failure as an "error" event, on stdout (--json) or stderr, and returns the exit code.
int Fail(const Args& args, EventWriter* events, const Status& status, int code) {
  events->Emit("error", JsonObject().Add("message", status.ToString()));
  if (args.json) std::printf("%s\n", JsonObject().Add("error", status.ToString()).ToString().c_str());
  else std::fprintf(stderr, "petabox-worker: %s\n", status.ToString().c_str());
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

// The spec with the command line's overrides applied, validated again.
StatusOr<petabox::worker::JobSpec> LoadSpec(const Args& args) {
  PB_ASSIGN_OR_RETURN(petabox::worker::JobSpec spec, petabox::worker::LoadJobSpec(args.job));
  if (!args.devices.empty()) {
    spec.devices = SplitCommas(args.devices);
    spec.device_count = 0;
  }
  if (!args.checkpoint_dir.empty()) spec.checkpoint.dir = args.checkpoint_dir;
  if (!args.dataset_dir.empty()) spec.dataset.dir = args.dataset_dir;
  if (!args.graph.empty()) spec.graph = args.graph;
  if (spec.checkpoint.interval_steps == 0) spec.checkpoint.interval_steps = args.default_checkpoint_interval;
  PB_RETURN_IF_ERROR(petabox::worker::ValidateJobSpec(spec));
  if (spec.checkpoint.interval_steps > 0 && spec.checkpoint.dir.empty()) {
    return petabox::InvalidArgument(args.job + ": checkpoint.dir: must be set when checkpoint.interval_steps > 0 "
                                    "(or pass --checkpoint-dir)");
  }
  return spec;
}

// Holds an exclusive lock on dir/.lock until the process exits (waiting for a previous
// worker of the same job, e.g. one left behind by a daemon killed with SIGKILL).
Status LockCheckpointDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return petabox::Unavailable(path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
  std::fprintf(stderr, "petabox-worker: waiting for another worker to release %s\n", dir.c_str());
  if (::flock(fd, LOCK_EX) != 0) return petabox::Unavailable(path + ": " + std::strerror(errno));
  return Status::Ok();
}

int Run(const Args& args, EventWriter* events) {
  auto spec = LoadSpec(args);
  if (!spec.ok()) return Fail(args, events, spec.status(), 2);
  if (!spec->checkpoint.dir.empty()) {
    if (Status s = LockCheckpointDir(spec->checkpoint.dir); !s.ok()) return Fail(args, events, s, 1);
  }
  petabox::worker::RunnerOptions options;
  options.resume_from = args.resume;
  options.use_jit = args.jit;
  options.log = args.json ? nullptr : stdout;
  options.stop_requested = &g_stop_requested;
  std::unique_ptr<petabox::worker::UsageMeter> usage;
  if (args.usage_interval > 0) {
    usage = std::make_unique<petabox::worker::UsageMeter>(petabox::worker::MeteredDevices(spec->devices),
                                                          args.usage_interval);
    options.on_step = [&usage, events](double seconds, int64_t samples) {
      usage->OnStep(seconds, samples);
      usage->MaybeEmit(events);
    };
  }
  auto runner = petabox::worker::Runner::Create(*spec, options, events);
  if (usage) usage->MaybeEmit(events, /*force=*/!runner.ok());  // what setup ran, if it failed
  if (!runner.ok()) return Fail(args, events, runner.status(), 1);
  auto result = (*runner)->Run();
  if (usage) usage->MaybeEmit(events, /*force=*/true);  // what ran since the last report
  if (!result.ok()) return Fail(args, events, result.status(), 1);
  const JsonObject summary = petabox::worker::ResultJson(*result);
  if (args.json) std::printf("%s\n", summary.ToString().c_str());
  else std::printf("%s: %s\n", result->preempted ? "preempted" : "done", summary.ToString().c_str());
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
  auto events = EventWriter::Open(args.events);
  if (!events.ok()) {
    std::fprintf(stderr, "petabox-worker: %s\n", events.status().ToString().c_str());
    return 2;
  }
  return Run(args, events->get());
}
