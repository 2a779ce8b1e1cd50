#include "engine/codegen/opt/optimize.h"

#include <cstdio>
#include <cstdlib>

#include "engine/codegen/opt/beam_cache.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/exec_stats.h"
#include "engine/util/thread_annotations.h"

namespace petabox {
namespace {

// A search that lasts longer than this is reported whatever the debug level.
constexpr double kLongSearchSeconds = 5;

struct OptionsState {
  Mutex mu;
  bool set GUARDED_BY(mu) = false;
  OptimizeOptions options GUARDED_BY(mu);
};

OptionsState& State() {
  static OptionsState* state = new OptionsState();
  return *state;
}

// PETABOX_BEAM=N: the one place the optimizer reads the environment.
OptimizeOptions FromEnvironment() {
  OptimizeOptions options;
  if (const char* v = std::getenv("PETABOX_BEAM")) options.beam = std::max(0, std::atoi(v));
  return options;
}

BeamResult Search(const Kernel& kernel, Device& device, const OptimizeOptions& options, bool* ok) {
  BeamOptions search = options.search;
  search.width = options.beam;
  if (DebugLevel() >= 2) search.progress_after_s = 0;
  StatusOr<BeamResult> result = BeamSearch(kernel, device, search);
  *ok = result.ok();
  if (!result.ok()) {
    std::fprintf(stderr, "petabox: warning: BEAM search of %s failed, using the heuristics: %s\n",
                 kernel.Name().c_str(), result.status().ToString().c_str());
    return {};
  }
  RecordSearch(result->search_seconds, false);
  if (DebugLevel() >= 1 || result->search_seconds > kLongSearchSeconds) {
    ExecTotals totals = GetExecTotals();
    std::fprintf(stderr,
                 "beam: %-7s %-32s %4d candidates %2d rounds %6.2f s: %9.1f us (heuristics %9.1f us, %.2fx) [%s]; "
                 "%lld searched, %.1f s in all\n",
                 device.properties().name.c_str(), kernel.Name().c_str(), result->timed, result->rounds,
                 result->search_seconds, result->seconds * 1e6, result->default_seconds * 1e6,
                 result->default_seconds / result->seconds, ToString(result->actions).c_str(),
                 static_cast<long long>(totals.searches), totals.search_seconds);
  }
  return *result;
}

// Applies the heuristics' layout to a fresh copy of the kernel.
void UseHeuristics(Kernel& kernel, const Kernel& original) {
  kernel = original;
  ApplyHeuristics(kernel);
}

}  // namespace

OptimizeOptions GetOptimizeOptions() {
  OptionsState& state = State();
  MutexLock lock(state.mu);
  if (!state.set) {
    state.options = FromEnvironment();
    state.set = true;
  }
  return state.options;
}

void SetOptimizeOptions(const OptimizeOptions& options) {
  OptionsState& state = State();
  MutexLock lock(state.mu);
  state.options = options;
  state.set = true;
}

void OptimizeKernel(Kernel& kernel, Device& device) {
  const OptimizeOptions options = GetOptimizeOptions();
  if (options.beam <= 0) return ApplyHeuristics(kernel);
  const Kernel original = kernel;
  const std::string dir = device.compiler().cache_dir();
  BeamCache cache(dir.empty() ? "" : dir + "/beam");
  const std::string key = BeamCacheKey(kernel.ast(), device, options.beam);
  if (std::optional<std::vector<Action>> cached = cache.Find(key)) {
    if (Status s = ApplyActions(kernel, *cached); s.ok()) {
      RecordSearch(0, true);
      return;
    } else {
      std::fprintf(stderr, "petabox: warning: ignoring BEAM cache entry %s: %s\n", cache.PathOf(key).c_str(),
                   s.ToString().c_str());
    }
  }
  bool ok = false;
  BeamResult result = Search(original, device, options, &ok);
  if (!ok) return UseHeuristics(kernel, original);
  kernel = original;
  if (Status s = ApplyActions(kernel, result.actions); !s.ok()) return UseHeuristics(kernel, original);
  cache.Store(key, result.actions, result.seconds, result.default_seconds);
}

}  // namespace petabox
