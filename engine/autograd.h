// Reverse-mode autodiff over the primitive ops: one backward rule per primitive, all in
// autograd.cc. Composed ops (matmul, conv2d, softmax, ...) get their gradients from the
// primitives they are built of. Gradients are lazy tensors like any other.
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace petabox {

// d(y)/d(x) for each x in wrt, with y's gradient seeded by `seed` (ones when
// uninitialized; it must have y's shape). An x that y does not depend on gets zeros.
StatusOr<std::vector<Tensor>> Gradients(const Tensor& y, const std::vector<Tensor>& wrt,
                                        const Tensor& seed = Tensor());

// True when gradients can flow from `n` to a tensor that requires grad (realization then
// keeps the graph behind a tensor instead of replacing it by its buffer).
bool DependsOnGradLeaf(const Node* n);

// While alive, tensors built on this thread are detached (no gradient flows through them),
// as in PyTorch's torch.no_grad().
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;
  static bool Active();

 private:
  bool previous_;
};

}  // namespace petabox
