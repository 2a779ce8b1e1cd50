// Hand-coded kernel optimizations: upcast (register tiles, with the innermost tile axis as
// a SIMD vector), unroll of small reduce axes, a grouped reduce on GPUs. Deterministic; the
// result is an action list (action.h), so BEAM search (beam.h) starts from it.
#pragma once

#include <vector>

#include "engine/codegen/kernel.h"
#include "engine/codegen/opt/action.h"

namespace petabox {

// Normalizes the kernel's axes and applies the heuristics for its device.
void ApplyHeuristics(Kernel& kernel);

// The actions ApplyHeuristics takes, for ApplyActions on a fresh copy of `kernel`.
std::vector<Action> HeuristicActions(const Kernel& kernel);

}  // namespace petabox
