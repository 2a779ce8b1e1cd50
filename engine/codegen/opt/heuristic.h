// Hand-coded kernel optimizations: upcast (register tiles, with the innermost tile axis as
// a SIMD vector), unroll of small reduce axes. Deterministic; BEAM search comes later.
#pragma once

#include "engine/codegen/kernel.h"

namespace petabox {

// Normalizes the kernel's axes and applies the heuristics for its device.
void ApplyHeuristics(Kernel& kernel);

}  // namespace petabox
