// Chooses a kernel's layout: the hand-coded heuristics, or with BEAM on the fastest layout
// BEAM search finds (beam.h), remembered on disk (beam_cache.h) so a later run, in this
// process or another, applies it without searching. What realization calls per kernel.
#pragma once

#include "devices/device.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/opt/beam.h"

namespace petabox {

struct OptimizeOptions {
  // BEAM width: 0 = heuristics only. Read from PETABOX_BEAM (a documented debug knob) at
  // first use unless SetOptimizeOptions ran before; a job spec's `beam` sets it in the worker.
  int beam = 0;
  // How candidates are timed (beam.width is taken from `beam`).
  BeamOptions search;
};

// The options in force. Thread-safe.
OptimizeOptions GetOptimizeOptions();
// Replaces them for the rest of the process (the worker, from the job spec; tests).
// Kernels already compiled keep their layout. Thread-safe.
void SetOptimizeOptions(const OptimizeOptions& options);

// Normalizes `kernel` and lays it out for `device`. With BEAM on: the cached layout of this
// kernel, device and compiler if there is one, else a search whose result is cached; a
// failed search or an invalid cached entry falls back to the heuristics (with a warning),
// so this never fails. At PETABOX_DEBUG >= 1 each search prints a line to stderr, and
// searches are counted in the exec totals (engine/exec_stats.h). Call from the thread
// that owns the device's launches (realization's); searches of one device do not overlap.
void OptimizeKernel(Kernel& kernel, Device& device);

}  // namespace petabox
