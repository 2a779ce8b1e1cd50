#include "engine/exec_stats.h"

#include <cstdio>
#include <cstdlib>

#include "engine/util/thread_annotations.h"

namespace petabox {
namespace {

struct StatsState {
  Mutex mu;
  ExecTotals totals GUARDED_BY(mu);
  std::function<void(const KernelRecord&)> observer GUARDED_BY(mu);
};

StatsState& State() {
  static StatsState* state = new StatsState();
  return *state;
}

}  // namespace

int DebugLevel() {
  static const int level = [] {
    const char* v = std::getenv("PETABOX_DEBUG");
    return v ? std::atoi(v) : 0;
  }();
  return level;
}

ExecTotals GetExecTotals() {
  StatsState& state = State();
  MutexLock lock(state.mu);
  return state.totals;
}

void ResetExecTotals() {
  StatsState& state = State();
  MutexLock lock(state.mu);
  state.totals = {};
}

void RecordKernel(const KernelRecord& r) {
  std::function<void(const KernelRecord&)> observer;
  {
    StatsState& state = State();
    MutexLock lock(state.mu);
    ExecTotals& t = state.totals;
    ++t.kernels;
    t.flops += r.flops;
    t.bytes += r.bytes;
    t.seconds += r.seconds;
    observer = state.observer;
  }
  if (observer) observer(r);
  if (DebugLevel() >= 2) {
    double s = r.seconds > 0 ? r.seconds : 1e-9;
    std::fprintf(stderr, "%-7s %-40s %10.2f us %9.2f GFLOP/s %8.2f GB/s\n", r.device.c_str(), r.name.c_str(),
                 r.seconds * 1e6, r.flops / s * 1e-9, r.bytes / s * 1e-9);
  }
}

void RecordSearch(double seconds, bool cache_hit) {
  StatsState& state = State();
  MutexLock lock(state.mu);
  if (cache_hit) {
    ++state.totals.search_cache_hits;
    return;
  }
  ++state.totals.searches;
  state.totals.search_seconds += seconds;
}

void SetKernelObserver(std::function<void(const KernelRecord&)> observer) {
  StatsState& state = State();
  MutexLock lock(state.mu);
  state.observer = std::move(observer);
}

}  // namespace petabox
