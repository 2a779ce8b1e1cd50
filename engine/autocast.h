// Autocast (as PyTorch's torch.autocast): while an AutocastGuard is alive on a thread, the
// frontend runs the ops that tolerate a 16-bit type in it and the ops that need range or
// precision in float32, so that a model's unchanged code trains in mixed precision:
//
//   16-bit (the guard's type)  Matmul and Conv2d: float operands (and conv's bias) are cast
//                              to it; every device accumulates their sums in float32 (the
//                              renderers compute 16-bit types in float and store them as
//                              16-bit), and the result is of the 16-bit type
//   float32                    Softmax, LogSoftmax (so CrossEntropy), Mean and Var (so
//                              BatchNorm statistics and global average pooling) of a
//                              16-bit input
//   unchanged                  everything else; mixed operands promote (engine/dtype.h), so
//                              a 16-bit activation plus a float32 bias is float32
//
// A cast's backward casts the gradient back to the source's type, so gradients of float32
// parameters stay float32 (engine/autograd.cc). Training code enters the guard around the
// forward pass and the loss only (engine/nn/train_step.h, engine/nn/data_parallel.h).
// Thread contract: the state is per thread; guards nest (the innermost wins).
#pragma once

#include <optional>

#include "engine/tensor.h"

namespace petabox {

class AutocastGuard {
 public:
  // `dtype` kFloat16 or kBFloat16 turns autocast on; kFloat32 (or any other) turns it off
  // for the guard's scope.
  explicit AutocastGuard(DType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  // The 16-bit type in effect on this thread, if any.
  static std::optional<DType> Active();

 private:
  std::optional<DType> previous_;
};

// For the frontend's ops: `t` cast to the active 16-bit type when autocast is on and t is a
// float tensor of another type; otherwise t unchanged (errors pass through).
Tensor AutocastLow(const Tensor& t);
// `t` cast to float32 when autocast is on and t is of a 16-bit float type; otherwise t.
Tensor AutocastWide(const Tensor& t);

}  // namespace petabox
