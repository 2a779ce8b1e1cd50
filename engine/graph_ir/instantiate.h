// Builds the engine's lazy graph from a resolved GraphIr: one interned node per IR node
// that the requested roots depend on, on one device, with the caller's tensors as leaves.
// Nothing is computed. The nodes are exactly those the frontend built when the graph was
// captured (same ops, shapes and arguments), so a captured model and its graph compute the
// same values, and autograd differentiates the result like any frontend graph.
//
// Thread-safe (the engine's graph is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/graph_ir/resolve.h"

namespace petabox::graph {

// The leaves, indexed like the graph's inputs, parameters, state and constants; each must
// have its declaration's dtype and (for inputs, at the resolved batch size) shape, on
// `device`. Leaves the roots do not reach may be null.
struct Leaves {
  std::string device;
  std::vector<NodeRef> inputs;
  std::vector<NodeRef> parameters;
  std::vector<NodeRef> state;
  std::vector<NodeRef> constants;
};

struct InstantiateOptions {
  // The CPU backend's layout choice for matmuls (the frontend makes it on devices that pack
  // operands for SIMD, DeviceCapabilities, engine/tensor_nn.cc PackForMatmul): a transposed 2-D parameter (a Linear weight, W^T)
  // of at least 4096 elements is copied into a contiguous buffer before the product reads
  // it, so its rows are read as vectors. Same values; graphs are captured device-neutral.
  bool pack_transposed_weights = false;
};

// The engine nodes of `roots` (indices into g.nodes). InvalidArgument naming the leaf when a
// needed leaf is missing or does not match its declaration. `g` must have passed
// CheckStructure and `r` be Resolve(g, batch).
StatusOr<std::vector<NodeRef>> Instantiate(const GraphIr& g, const ResolvedGraph& r, const Leaves& leaves,
                                           const std::vector<uint32_t>& roots, const InstantiateOptions& options = {});

}  // namespace petabox::graph
