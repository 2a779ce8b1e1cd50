// Linearizer: a laid-out Kernel -> LinearKernel (loops, loads, ALU ops, accumulators,
// stores). Code axes (upcast/unroll) are expanded here; the vector axis becomes vector ops.
#pragma once

#include "engine/codegen/kernel.h"
#include "engine/codegen/uops.h"

namespace petabox {

LinearKernel Linearize(const Kernel& kernel);

}  // namespace petabox
