#include "engine/exec_stats.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace petabox {
namespace {

struct StatsState {
  std::mutex mu;
  ExecTotals totals;                                  // GUARDED_BY(mu)
  std::function<void(const KernelRecord&)> observer;  // GUARDED_BY(mu)
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
  std::lock_guard<std::mutex> lock(State().mu);
  return State().totals;
}

void ResetExecTotals() {
  std::lock_guard<std::mutex> lock(State().mu);
  State().totals = {};
}

void RecordKernel(const KernelRecord& r) {
  std::function<void(const KernelRecord&)> observer;
  {
    std::lock_guard<std::mutex> lock(State().mu);
    ExecTotals& t = State().totals;
    ++t.kernels;
    t.flops += r.flops;
    t.bytes += r.bytes;
    t.seconds += r.seconds;
    observer = State().observer;
  }
  if (observer) observer(r);
  if (DebugLevel() >= 2) {
    double s = r.seconds > 0 ? r.seconds : 1e-9;
    std::fprintf(stderr, "%-7s %-40s %10.2f us %9.2f GFLOP/s %8.2f GB/s\n", r.device.c_str(), r.name.c_str(),
                 r.seconds * 1e6, r.flops / s * 1e-9, r.bytes / s * 1e-9);
  }
}

void SetKernelObserver(std::function<void(const KernelRecord&)> observer) {
  std::lock_guard<std::mutex> lock(State().mu);
  State().observer = std::move(observer);
}

}  // namespace petabox
