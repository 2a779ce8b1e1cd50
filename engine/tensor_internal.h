// Helpers shared by the tensor_*.cc files (not part of the public API).
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace petabox {

// Canonical device name ("" -> default device), or the lookup error.
StatusOr<std::string> ResolveDevice(const std::string& device);
// axis in [-ndim, ndim) -> [0, ndim); InvalidArgument naming op and shape otherwise.
StatusOr<int> NormalizeAxis(int axis, int ndim, const Shape& shape, const char* op);
// NumPy broadcast of two shapes, or InvalidArgument naming both.
StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b, const char* op);
// The first error among tensors (OK when all are ok).
Status FirstError(std::initializer_list<const Tensor*> tensors);
// Reshape (prepending 1s) + expand of t to `shape`.
Tensor Broadcast(const Tensor& t, const Shape& shape, const char* op);
// The node to schedule so that n has a value: its base, or n itself when it is a view of a
// constant (which is then materialized).
NodeRef RealizeRootOf(const NodeRef& n);
// Builds (interns) a node and wraps it; under NoGradGuard the result is detached.
Tensor MakeOp(Op op, DType dtype, const Shape& shape, const std::string& device, std::vector<NodeRef> srcs,
              NodeArg arg = {});

}  // namespace petabox
