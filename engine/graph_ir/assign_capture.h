// AssignCapture: while one is alive on a thread, Tensor::Assign on that thread records the
// assignment (target buffer node, value node) instead of computing and writing it. Graph
// capture (engine/graph_ir/capture.h) uses it to turn in-place state updates made during a
// forward pass (BatchNorm2d's running statistics) into the graph's state updates.
// Captures nest: the innermost one records. Thread-compatible (one per thread).
#pragma once

#include <vector>

#include "engine/graph.h"

namespace petabox::graph {

class AssignCapture {
 public:
  struct Entry {
    NodeRef target;  // a BUFFER node
    NodeRef value;   // the target's dtype and shape
  };

  AssignCapture();
  ~AssignCapture();
  AssignCapture(const AssignCapture&) = delete;
  AssignCapture& operator=(const AssignCapture&) = delete;

  // The capture active on this thread, or null.
  static AssignCapture* Active();
  void Record(NodeRef target, NodeRef value) { entries_.push_back({std::move(target), std::move(value)}); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  AssignCapture* previous_;
  std::vector<Entry> entries_;
};

}  // namespace petabox::graph
