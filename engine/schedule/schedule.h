// Scheduling: turns the lazy graph under some roots into an ordered list of kernels,
// copies and allocations. Elementwise chains fuse into their consumer; a kernel holds at
// most one reduce; boundaries at CONTIGUOUS, COPY, ASSIGN, the roots, expands of computed
// values, reduces that cannot fuse, and pads over ops with f(0) != 0. A COPY that an
// elementwise kernel reads (no reduce, no expand on the way) is read in place from the
// other device when kernels there can reach its memory (engine/multi_peer.h): the kernel's
// inputs may then live on other devices. A concatenation (engine/schedule/concat.h) with a
// part copied from another device is no kernel: every part is copied into its range of the
// result's buffer (the copied parts get no buffer of their own).
#pragma once

#include <memory>
#include <vector>

#include "engine/graph.h"
#include "engine/schedule/kernel_ast.h"

namespace petabox {

struct ScheduleItem {
  enum class Kind { kKernel, kCopy, kEmpty };
  Kind kind = Kind::kKernel;
  NodeRef output;               // the node this item computes (gets a buffer)
  std::vector<NodeRef> inputs;  // kernel buffers 1..n / the copy's source (realized earlier)
  std::shared_ptr<const KernelAst> ast;  // kKernel
  NodeRef assign_target;        // ASSIGN: the buffer node written in place (else null)
  int64_t copy_offset = 0;      // kCopy: element offset into the source's buffer of the bytes copied
  // kCopy into a concatenation: `count` elements go into the buffer of `output` (allocated by
  // an earlier kEmpty item for it) from element `dst_offset`; output gets no buffer from it.
  bool into_output = false;
  int64_t dst_offset = 0, count = 0;
};

// How n reads the buffer of its base (Base(n)): the movement ops above it, as one tracker.
ShapeTracker ViewFromBase(const Node* n);

// Roots are nodes that must hold a buffer afterwards: computed bases, or a view over a CONST
// (which then gets materialized). Nodes already realized are not scheduled again.
StatusOr<std::vector<ScheduleItem>> CreateSchedule(const std::vector<NodeRef>& roots);

}  // namespace petabox
