// Checking a GraphIr: its structure (known ops, sources defined before use, arities,
// leaf references, tensor declarations, outputs, limits) and, for one batch size N, every
// node's shape, dtype and arguments against its op's rules. Every error is an
// InvalidArgument that names the node ("graph node 12 (RESHAPE): ..."), the tensor or the
// output at fault. Nothing here allocates device memory or touches the engine's graph.
//
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/graph_ir/graph_ir.h"
#include "engine/shape/view.h"

namespace petabox::graph {

// What a graph may ask for; past these it is rejected as absurd.
struct GraphLimits {
  int64_t max_nodes = 1'000'000;
  // Longest chain of nodes: the engine walks graphs recursively.
  int64_t max_depth = 20'000;
  int max_ndim = 16;
  // One dimension at any batch size, and a Dim's coefficients.
  int64_t max_dim = int64_t{1} << 31;
  // Elements of one node: views are not materialized (a conv's broadcast product is big).
  int64_t max_elements = int64_t{1} << 46;
  // Elements of one parameter, state or constant tensor.
  int64_t max_tensor_elements = int64_t{1} << 31;
  // Largest per-device batch size Resolve accepts.
  int64_t max_batch = int64_t{1} << 20;
  int64_t max_inputs = 64;
  int64_t max_tensors = 1'000'000;
};

// The graph at one batch size: concrete shapes, and the arguments of the nodes that have
// them, indexed like GraphIr::nodes.
struct ResolvedNode {
  Shape shape;
  std::vector<Range> ranges;  // PAD, SHRINK
  double value = 0;           // CONST
};
struct ResolvedGraph {
  int64_t batch = 0;
  std::vector<ResolvedNode> nodes;
};

// The batch-independent checks: version, ops, dtypes, arities, sources (an index that is
// not an earlier node: a dangling reference or a cycle), leaves, tensors (shapes, values'
// byte counts, initializers, names), state updates, outputs ("loss" must exist), limits.
Status CheckStructure(const GraphIr& g, const GraphLimits& limits = {});

// Every node's shape and arguments at batch size `batch` (>= 1), each checked against its
// op's rules and against the node's declared shape and dtype. Call CheckStructure first
// (Resolve assumes a structurally valid graph).
StatusOr<ResolvedGraph> Resolve(const GraphIr& g, int64_t batch, const GraphLimits& limits = {});

// CheckStructure, then Resolve at batch sizes 1 and 2 (a graph must run at any size; the
// worker resolves again at its own sizes).
Status Validate(const GraphIr& g, const GraphLimits& limits = {});

}  // namespace petabox::graph
