// Concatenations: recognizing a value that is a sum of zero-padded parts which do not
// overlap and together cover the whole result (what Tensor::Cat builds, and the all-gather
// of engine/multi_allreduce.h), so the scheduler can write each part straight into its range
// of the result's buffer instead of running a kernel that reads every part again.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/graph.h"

namespace petabox {

struct ConcatPart {
  const Node* value;  // the part (the PAD's source), of the PAD's source shape
  int64_t offset;     // where the part starts in the row-major result, in elements
};

// The parts of `n` (in the order of its ADD tree) when n is an ADD tree whose leaves are
// PAD nodes, each placing its source on one contiguous row-major range of n, the ranges
// disjoint and covering all of n; empty otherwise, and for fewer than two parts. `inner`
// decides whether an ADD below n may be looked through (the caller's rule, e.g. that
// nothing else uses that partial sum).
std::vector<ConcatPart> ConcatParts(const Node* n, const std::function<bool(const Node*)>& inner);

}  // namespace petabox
