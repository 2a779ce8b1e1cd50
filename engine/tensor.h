// Tensor: the engine's frontend. Every operation only builds the lazy graph; Realize()
// (or reading data out) computes it. Composite ops (matmul, conv2d, softmax, ...) are
// built from the primitive ops, never special kernels.
//
// Errors do not throw: an invalid operation (mismatched shapes, bad axis, unknown device)
// returns a Tensor carrying a Status that names the op and the shapes; operations on it
// propagate that first error, and Realize()/ToVector() return it. Check with ok()/status().
// A Tensor is a cheap handle (shared graph node); copies share the value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/graph.h"
#include "engine/random.h"

namespace petabox {

class Tensor {
 public:
  Tensor() : status_(std::make_shared<Status>(FailedPrecondition("uninitialized tensor"))) {}

  // ---- creation. `device` "" means the default device.
  static Tensor FromData(const void* data, const Shape& shape, DType dtype, const std::string& device = "");
  static Tensor FromVector(const std::vector<float>& data, const Shape& shape, DType dtype = DType::kFloat32,
                           const std::string& device = "");
  static Tensor Full(const Shape& shape, double value, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor Zeros(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor Ones(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor Empty(const Shape& shape, DType dtype = DType::kFloat32, const std::string& device = "");
  // [start, stop) by step.
  static Tensor Arange(double start, double stop, double step = 1, DType dtype = DType::kFloat32,
                       const std::string& device = "");
  static Tensor Eye(int64_t n, DType dtype = DType::kFloat32, const std::string& device = "");
  // Uniform [0,1) / standard normal, from `rng` (advanced) or a seed.
  static Tensor Rand(const Shape& shape, Rng& rng, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor Randn(const Shape& shape, Rng& rng, DType dtype = DType::kFloat32, const std::string& device = "");
  static Tensor Rand(const Shape& shape, uint64_t seed, DType dtype = DType::kFloat32);
  static Tensor Randn(const Shape& shape, uint64_t seed, DType dtype = DType::kFloat32);
  // A tensor holding an error (for code that builds tensors and must report failure).
  static Tensor Error(Status status);

  // ---- properties
  bool ok() const { return status_ == nullptr; }
  const Status& status() const;
  const Shape& shape() const;
  DType dtype() const;
  const std::string& device() const;
  int ndim() const { return static_cast<int>(shape().size()); }
  int64_t numel() const { return Product(shape()); }
  const NodeRef& node() const { return node_; }

  // ---- realization and data out
  // Computes the tensor; afterwards it is backed by a buffer.
  Status Realize();
  StatusOr<std::vector<float>> ToFloats() const;
  StatusOr<std::vector<double>> ToDoubles() const;
  // The single element of a one-element tensor.
  StatusOr<double> Item() const;
  // Forces a contiguous buffer of its own (a scheduling boundary).
  Tensor Contiguous() const;
  Tensor To(const std::string& device) const;
  // Writes `value` into this (realized, view-free) tensor's buffer; returns the tensor.
  Tensor Assign(const Tensor& value);

  // ---- elementwise (broadcasting, dtype promotion)
  Tensor Add(const Tensor& o) const;
  Tensor Sub(const Tensor& o) const;
  Tensor Mul(const Tensor& o) const;
  Tensor Div(const Tensor& o) const;
  Tensor Pow(const Tensor& o) const;
  Tensor Maximum(const Tensor& o) const;
  Tensor Minimum(const Tensor& o) const;
  Tensor Add(double v) const { return Add(Scalar(v)); }
  Tensor Sub(double v) const { return Sub(Scalar(v)); }
  Tensor Mul(double v) const { return Mul(Scalar(v)); }
  Tensor Div(double v) const { return Div(Scalar(v)); }
  Tensor Pow(double v) const;
  Tensor Neg() const;
  Tensor Exp() const;
  Tensor Log() const;
  Tensor Exp2() const;
  Tensor Log2() const;
  Tensor Sqrt() const;
  Tensor Rsqrt() const;
  Tensor Reciprocal() const;
  Tensor Abs() const;
  Tensor Sin() const;
  Tensor Cos() const;
  Tensor Relu() const;
  Tensor Sigmoid() const;
  Tensor Tanh() const;
  // GELU, tanh approximation (PyTorch's approximate="tanh").
  Tensor Gelu() const;
  Tensor Lt(const Tensor& o) const;
  Tensor Gt(const Tensor& o) const;
  Tensor Le(const Tensor& o) const;
  Tensor Ge(const Tensor& o) const;
  Tensor Eq(const Tensor& o) const;
  Tensor Ne(const Tensor& o) const;
  Tensor Lt(double v) const { return Lt(Scalar(v)); }
  Tensor Gt(double v) const { return Gt(Scalar(v)); }
  Tensor Eq(double v) const { return Eq(Scalar(v)); }
  Tensor LogicalNot() const;
  // cond ? a : b, broadcasting all three.
  static Tensor Where(const Tensor& cond, const Tensor& a, const Tensor& b);
  Tensor Where(const Tensor& a, const Tensor& b) const { return Where(*this, a, b); }
  Tensor Clip(double lo, double hi) const;
  Tensor Cast(DType dtype) const;

  // ---- reductions. Empty axes = all axes; negative axes count from the end.
  Tensor Sum(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor Max(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor Min(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor Mean(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor Var(const std::vector<int>& axes = {}, bool keepdim = false, double correction = 1) const;
  // Index (int32) of the first maximum along `axis`.
  Tensor Argmax(int axis, bool keepdim = false) const;

  // ---- movement (zero-copy)
  // One dim may be -1 (inferred).
  Tensor Reshape(const Shape& shape) const;
  Tensor Permute(const std::vector<int>& order) const;
  Tensor Transpose(int a = -2, int b = -1) const;
  // Broadcasts size-1 dims (and prepends new dims); -1 keeps a dim.
  Tensor Expand(const Shape& shape) const;
  // (before, after) per dim, filled with `value`.
  Tensor Pad(const std::vector<Range>& pads, double value = 0) const;
  // [begin, end) per dim.
  Tensor Shrink(const std::vector<Range>& ranges) const;
  Tensor Flip(const std::vector<int>& axes) const;
  // Python-style slice of one axis: start/stop may be negative, step != 0.
  Tensor Slice(int axis, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor Flatten(int start = 0, int end = -1) const;
  Tensor Unsqueeze(int axis) const;
  Tensor Squeeze(int axis) const;
  static Tensor Cat(const std::vector<Tensor>& tensors, int axis = 0);
  static Tensor Stack(const std::vector<Tensor>& tensors, int axis = 0);

  // ---- composed nn ops
  // (..., n, k) @ (..., k, m) with batch broadcasting; 1-D operands as in NumPy.
  Tensor Matmul(const Tensor& o) const;
  // x: (N, C, H, W), weight: (O, C/groups, KH, KW), bias: (O) or an uninitialized Tensor.
  Tensor Conv2d(const Tensor& weight, const Tensor& bias = Tensor(), std::pair<int64_t, int64_t> stride = {1, 1},
                std::pair<int64_t, int64_t> padding = {0, 0}, std::pair<int64_t, int64_t> dilation = {1, 1},
                int64_t groups = 1) const;
  Tensor MaxPool2d(std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride = {0, 0},
                   std::pair<int64_t, int64_t> padding = {0, 0}) const;
  // Averages include padding (PyTorch's count_include_pad=True).
  Tensor AvgPool2d(std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride = {0, 0},
                   std::pair<int64_t, int64_t> padding = {0, 0}) const;
  Tensor Softmax(int axis = -1) const;
  Tensor LogSoftmax(int axis = -1) const;
  // Mean cross-entropy of logits (N, C) against int class indices (N,).
  Tensor CrossEntropy(const Tensor& targets, double label_smoothing = 0) const;

  // ---- autograd (engine/autograd.h has the functional form)
  // Marks this tensor as a leaf that gradients flow to; realizes it into a buffer of its own
  // first. Copies of this Tensor share the flag and the gradient. Returns *this.
  Tensor& RequiresGrad(bool enabled = true);
  bool requires_grad() const;
  // The gradient accumulated by Backward() (lazy), or an uninitialized Tensor if none yet.
  Tensor grad() const;
  void SetGrad(const Tensor& grad);
  void ZeroGrad();
  // For a one-element tensor: adds d(this)/d(leaf) to the grad of every leaf that requires
  // grad and that this tensor depends on (gradients accumulate until ZeroGrad()).
  // InvalidArgument for a tensor with more than one element or with no such leaf.
  Status Backward();
  // The same value with no gradient flowing through it.
  Tensor Detach() const;

  // ---- internal: building from a node
  explicit Tensor(NodeRef node) : node_(std::move(node)) {}
  struct GradState;

 private:
  explicit Tensor(Status status) : status_(std::make_shared<Status>(std::move(status))) {}
  // A scalar constant of this tensor's dtype (or float32 if v is not integral for an int tensor).
  Tensor Scalar(double v) const;
  Tensor Unary(Op op) const;
  Tensor Binary(Op op, const Tensor& o, const char* name) const;
  Tensor Reduce(Op op, const std::vector<int>& axes, bool keepdim, const char* name) const;
  Tensor Pool(std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride,
              std::pair<int64_t, int64_t> dilation, const char* name) const;
  Tensor Movement(Op op, Shape shape, NodeArg arg) const;

  NodeRef node_;
  std::shared_ptr<const Status> status_;  // null when ok
  std::shared_ptr<GradState> grad_state_;  // set by RequiresGrad; shared by copies

  friend Tensor Broadcast(const Tensor&, const Shape&, const char*);
  friend Status RealizeAll(std::vector<Tensor*> tensors);
};

inline Tensor operator+(const Tensor& a, const Tensor& b) { return a.Add(b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return a.Sub(b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return a.Mul(b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return a.Div(b); }
inline Tensor operator+(const Tensor& a, double b) { return a.Add(b); }
inline Tensor operator-(const Tensor& a, double b) { return a.Sub(b); }
inline Tensor operator*(const Tensor& a, double b) { return a.Mul(b); }
inline Tensor operator/(const Tensor& a, double b) { return a.Div(b); }
inline Tensor operator-(const Tensor& a) { return a.Neg(); }

// Realizes several tensors in one schedule (shared work is computed once).
Status RealizeAll(std::vector<Tensor*> tensors);

}  // namespace petabox
