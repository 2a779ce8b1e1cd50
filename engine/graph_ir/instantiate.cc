#include "engine/graph_ir/instantiate.h"

namespace petabox::graph {
namespace {

// Which nodes the roots depend on (sources come before users, so one backward pass).
std::vector<bool> Needed(const GraphIr& g, const std::vector<uint32_t>& roots) {
  std::vector<bool> needed(g.nodes.size(), false);
  for (uint32_t r : roots) needed[r] = true;
  for (size_t i = g.nodes.size(); i-- > 0;)
    if (needed[i])
      for (uint32_t s : g.nodes[i].srcs) needed[s] = true;
  return needed;
}

StatusOr<NodeRef> LeafNode(const GraphIr& g, const ResolvedGraph& r, const Leaves& leaves, size_t i) {
  const IrNode& n = g.nodes[i];
  const std::vector<NodeRef>* list = nullptr;
  const char* kind = "";
  std::string name;
  switch (n.leaf) {
    case LeafKind::kInput: list = &leaves.inputs, kind = "input", name = g.inputs[n.leaf_index].name; break;
    case LeafKind::kParameter: list = &leaves.parameters, kind = "parameter", name = g.parameters[n.leaf_index].name; break;
    case LeafKind::kState: list = &leaves.state, kind = "state", name = g.state[n.leaf_index].name; break;
    default: list = &leaves.constants, kind = "constant", name = std::to_string(n.leaf_index); break;
  }
  const NodeRef leaf = n.leaf_index < list->size() ? (*list)[n.leaf_index] : nullptr;
  const std::string label = std::string("graph ") + kind + " '" + name + "'";
  if (leaf == nullptr) return InvalidArgument(label + " is not bound");
  if (leaf->dtype != n.dtype || leaf->shape != r.nodes[i].shape) {
    return InvalidArgument(label + ": expected " + Name(n.dtype) + ShapeToString(r.nodes[i].shape) + ", got " +
                           Name(leaf->dtype) + ShapeToString(leaf->shape));
  }
  if (leaf->device != leaves.device) return InvalidArgument(label + " is on " + leaf->device + ", not " + leaves.device);
  return leaf;
}

// A PERMUTE of a 2-D parameter of at least 4096 elements (InstantiateOptions).
bool IsTransposedWeight(const GraphIr& g, const ResolvedGraph& r, size_t i) {
  const IrNode& n = g.nodes[i];
  if (n.op != Op::kPermute || n.axes != std::vector<int>{1, 0}) return false;
  const IrNode& src = g.nodes[n.srcs[0]];
  return src.leaf == LeafKind::kParameter && r.nodes[i].shape.size() == 2 && Product(r.nodes[i].shape) >= 4096;
}

// The op's argument as the frontend stores it (engine/graph.h NodeArg).
NodeArg Arg(const IrNode& n, const ResolvedNode& rn) {
  switch (n.op) {
    case Op::kReshape: case Op::kExpand: return rn.shape;
    case Op::kPermute: case Op::kReduceSum: case Op::kReduceMax: case Op::kFlip: return n.axes;
    case Op::kPad: case Op::kShrink: return rn.ranges;
    case Op::kConst: return rn.value;
    case Op::kCast: case Op::kBitcast: return n.dtype;
    default: return std::monostate{};
  }
}

}  // namespace

StatusOr<std::vector<NodeRef>> Instantiate(const GraphIr& g, const ResolvedGraph& r, const Leaves& leaves,
                                           const std::vector<uint32_t>& roots, const InstantiateOptions& options) {
  for (uint32_t root : roots)
    if (root >= g.nodes.size()) return InvalidArgument("graph: root node " + std::to_string(root) + " does not exist");
  const std::vector<bool> needed = Needed(g, roots);
  std::vector<NodeRef> built(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!needed[i]) continue;
    const IrNode& n = g.nodes[i];
    if (n.op == Op::kBuffer) {
      PB_ASSIGN_OR_RETURN(built[i], LeafNode(g, r, leaves, i));
      continue;
    }
    std::vector<NodeRef> srcs;
    for (uint32_t s : n.srcs) srcs.push_back(built[s]);
    built[i] = MakeNode(n.op, n.dtype, r.nodes[i].shape, leaves.device, std::move(srcs), Arg(n, r.nodes[i]));
    if (options.pack_transposed_weights && IsTransposedWeight(g, r, i))
      built[i] = MakeNode(Op::kContiguous, n.dtype, r.nodes[i].shape, leaves.device, {built[i]});
  }
  std::vector<NodeRef> out;
  for (uint32_t root : roots) out.push_back(built[root]);
  return out;
}

}  // namespace petabox::graph
