// BEAM search over kernel layouts: from the normalized kernel, extend each of the `width`
// fastest action lists by one action (action.h), compile the new candidates in parallel on
// host threads, time each on the device with real buffers, keep the `width` fastest, and
// stop when a round finds nothing faster. The heuristics' layout is always timed, so the
// result is never slower than it as measured. Candidates that fail to compile or launch,
// or whose first launch is too slow, are skipped. Called from one thread per device (the
// device's Program contract); the compiler threads it starts end before it returns.
#pragma once

#include <vector>

#include "devices/device.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/opt/action.h"

namespace petabox {

struct BeamOptions {
  int width = 4;                        // action lists kept per round (PETABOX_BEAM=N)
  int max_rounds = 6;                   // actions added to the starting lists at most
  int runs = 3;                         // timed launches per candidate after a first one; the median counts
  double early_stop_ratio = 3.0;        // skip a candidate whose first launch takes this many times the best
  double candidate_time_limit_s = 0.5;  // skip a candidate whose first launch takes longer
  int compile_threads = 0;              // host threads compiling candidates; 0 = one per core
  double max_seconds = 120;             // no new round starts once the search took this long
  // Candidates expand at most this many elements in code (upcast * unroll), unless their
  // parent already did (the heuristics' tiles): large expansions compile slowly.
  int64_t max_expanded = 256;
  double progress_after_s = 5;          // a stderr line per round once the search takes longer
};

struct BeamResult {
  std::vector<Action> actions;   // the fastest layout measured: apply with ApplyActions
  double seconds = 0;            // its median launch time
  double default_seconds = 0;    // the heuristics' layout's
  int timed = 0;                 // candidates timed (the skipped ones included)
  int compile_failures = 0;      // candidates whose lowering, compile or load failed
  int launch_failures = 0;       // candidates whose launch returned an error
  int too_slow = 0;              // candidates stopped after their first launch
  int rounds = 0;
  double search_seconds = 0;     // wall time of the whole search
};

// Searches layouts of `kernel` (an unnormalized kernel as built from its AST) on `device`.
// Fails only when the heuristics' own layout cannot be compiled or run (with that error);
// the caller then uses the heuristics, whose failure realization reports as usual.
StatusOr<BeamResult> BeamSearch(const Kernel& kernel, Device& device, const BeamOptions& options);

}  // namespace petabox
