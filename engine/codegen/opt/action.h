// Kernel optimizations as values: one Action changes the loop layout of a Kernel (split an
// axis into a register tile, unroll a reduce, vectorize, group a reduce over a GPU block,
// reorder loops). The heuristics (heuristic.h) and BEAM search (beam.h) both produce
// action lists, applied in order to a normalized kernel; a list is what the search cache
// stores. Value types; free functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/codegen/kernel.h"
#include "engine/util/status.h"

namespace petabox {

enum class ActionKind : uint8_t {
  kUpcast,     // global axis -> (size/amount, amount upcast): a register tile, expanded in code
  kUnroll,     // reduce axis -> (size/amount, amount unrolled)
  kVectorize,  // global axis -> an upcast of `amount` SIMD lanes; reduce axis -> unrolled
               // lanes holding partial sums. At most one per kernel.
  kGroup,      // reduce axis -> `amount` threads of one GPU block, combined in shared memory
  kLoopOrder,  // moves global axis `axis` to global position `amount` (CPU loop order)
};

struct Action {
  ActionKind kind = ActionKind::kUpcast;
  int axis = 0;        // index into the kernel's current axes
  int64_t amount = 0;  // split size, or the target position of kLoopOrder

  bool operator==(const Action& o) const = default;
};

// E.g. "upcast:2:4". Parsed back by ParseActions.
std::string ToString(const Action& action);
// Actions separated by ',' ("" for none).
std::string ToString(const std::vector<Action>& actions);
// Parses ToString's output. InvalidArgument naming the bad entry.
StatusOr<std::vector<Action>> ParseActions(const std::string& text);

// Applies `action` to `kernel`. On an invalid action (axis out of range or of the wrong
// kind, an amount that does not divide the axis, a code-size limit, a vector the device's
// dialect or the kernel's ops cannot express, a group on a device without shared memory)
// returns InvalidArgument saying why and leaves the kernel unchanged.
Status ApplyAction(Kernel& kernel, const Action& action);

// Applies `actions` in order to `kernel` (normalized first). Stops at the first invalid
// one, returning its error prefixed with its position.
Status ApplyActions(Kernel& kernel, const std::vector<Action>& actions);

// Every valid single action on `kernel` from a small menu of amounts: what BEAM expands.
std::vector<Action> CandidateActions(const Kernel& kernel);

// True when the reduce's tree fits the C dialect's vectors: float32 ADD/MUL/NEG over
// unmasked loads (a masked load would become per-lane gathers, slower than scalar code).
bool VectorSafe(const KNode* k);

}  // namespace petabox
