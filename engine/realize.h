// Realization: schedule -> per kernel: optimize, linearize, render, compile (cached),
// launch. The only place where lazy graphs turn into computed buffers.
#pragma once

#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/schedule/schedule.h"

namespace petabox {

// Computes every root (see CreateSchedule); afterwards each root's realized() is set.
// Errors (out of memory, compile failure, unknown device) leave the roots unrealized.
Status Realize(const std::vector<NodeRef>& roots);

// Kernel source for one scheduled kernel on its device (for tests and debugging).
StatusOr<std::string> KernelSource(const KernelAst& ast);

}  // namespace petabox
