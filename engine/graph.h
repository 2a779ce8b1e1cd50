// The lazy graph: immutable, hash-consed nodes of primitive ops. Building a node never
// computes anything; realize() schedules nodes into kernels (engine/schedule).
//
// Two structurally equal nodes are the same object (MakeNode interns them), so common
// subexpressions are shared and node identity can key caches. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/buffer.h"
#include "engine/dtype.h"
#include "engine/ops.h"
#include "engine/shape/view.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

class Node;
using NodeRef = std::shared_ptr<const Node>;

// A BUFFER node's argument: the buffer and the version of its contents it stands for.
struct BufferArg {
  std::shared_ptr<Buffer> buffer;
  int64_t version = 0;
  bool operator==(const BufferArg& o) const { return buffer == o.buffer && version == o.version; }
};

// Op argument: reshape/expand -> Shape; permute/reduce/flip axes -> std::vector<int>;
// pad/shrink -> std::vector<Range>; const -> double; cast/bitcast -> DType;
// EMPTY -> a unique id (int64_t); BUFFER -> BufferArg.
using NodeArg = std::variant<std::monostate, Shape, std::vector<int>, std::vector<Range>, double, DType,
                             int64_t, BufferArg>;

class Node {
 public:
  const Op op;
  const DType dtype;
  const Shape shape;
  const std::string device;  // canonical device name
  const std::vector<NodeRef> srcs;
  const NodeArg arg;
  const size_t hash;

  template <typename T>
  const T& Arg() const { return std::get<T>(arg); }
  // The realized value, once a schedule has computed this node (memo; set once).
  std::shared_ptr<Buffer> realized() const EXCLUDES(mu_);
  void SetRealized(std::shared_ptr<Buffer> buffer) const EXCLUDES(mu_);
  // The buffer of a BUFFER node or the realized value of any other node (may be null).
  std::shared_ptr<Buffer> buffer() const;
  int64_t numel() const { return Product(shape); }

  Node(Op op, DType dtype, Shape shape, std::string device, std::vector<NodeRef> srcs, NodeArg arg, size_t hash)
      : op(op), dtype(dtype), shape(std::move(shape)), device(std::move(device)), srcs(std::move(srcs)),
        arg(std::move(arg)), hash(hash) {}

 private:
  mutable Mutex mu_;
  mutable std::shared_ptr<Buffer> realized_ GUARDED_BY(mu_);

};

// Interns and returns the node; callers validate shapes and dtypes first (the frontend does).
NodeRef MakeNode(Op op, DType dtype, Shape shape, std::string device, std::vector<NodeRef> srcs, NodeArg arg = {});
// A leaf holding an already computed buffer (its current version).
NodeRef MakeBufferNode(std::shared_ptr<Buffer> buffer, std::string device, Shape shape);
// Strips movement ops: the node whose value a view reads.
const Node* Base(const Node* n);
// One line per node, sources first (for debugging and error messages).
std::string GraphToString(const NodeRef& root);

}  // namespace petabox
