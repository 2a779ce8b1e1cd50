#include "engine/graph_ir/graph_ir.h"

namespace petabox::graph {

double BatchScalar::At(int64_t n) const {
  if (IsFixed()) return num_fixed;
  const double x = static_cast<double>(n);
  return (num_fixed + num_per_sample * x) / (den_fixed + den_per_sample * x);
}

int GraphIr::FindOutput(const std::string& name) const {
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].name == name) return static_cast<int>(i);
  return -1;
}

int GraphIr::FindInput(const std::string& name) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string NodeLabel(const GraphIr& g, size_t index) {
  std::string label = "node " + std::to_string(index);
  if (index >= g.nodes.size()) return label;
  const IrNode& n = g.nodes[index];
  if (static_cast<int>(n.op) >= kNumOps) return label + " (op " + std::to_string(static_cast<int>(n.op)) + ")";
  switch (n.leaf) {
    case LeafKind::kInput: return label + " (INPUT)";
    case LeafKind::kParameter: return label + " (PARAMETER)";
    case LeafKind::kState: return label + " (STATE)";
    case LeafKind::kConstant: return label + " (CONSTANT)";
    default: return label + " (" + Name(n.op) + ")";
  }
}

}  // namespace petabox::graph
