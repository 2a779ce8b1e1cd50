// Reductions: SUM and MAX are primitives; the rest are composed.
#include <algorithm>

#include "engine/tensor.h"
#include "engine/tensor_internal.h"

namespace petabox {

Tensor Tensor::Reduce(Op op, const std::vector<int>& axes, bool keepdim, const char* name) const {
  if (!ok()) return *this;
  std::vector<int> norm;
  if (axes.empty()) {
    for (int i = 0; i < ndim(); ++i) norm.push_back(i);
  }
  for (int a : axes) {
    auto n = NormalizeAxis(a, ndim(), shape(), name);
    if (!n.ok()) return Error(n.status());
    norm.push_back(*n);
  }
  std::sort(norm.begin(), norm.end());
  norm.erase(std::unique(norm.begin(), norm.end()), norm.end());
  Shape kept = shape(), dropped;
  for (int i = 0; i < ndim(); ++i) {
    bool reduced = std::binary_search(norm.begin(), norm.end(), i);
    if (reduced) kept[i] = 1;
    else dropped.push_back(shape()[i]);
  }
  for (int a : norm)
    if (shape()[a] == 0) return Error(InvalidArgument(std::string(name) + ": reduction over an empty axis of shape " +
                                                      ShapeToString(shape())));
  // Sums of small ints accumulate in int32 (bool/uint8 would overflow).
  Tensor x = op == Op::kReduceSum && (dtype() == DType::kBool || dtype() == DType::kUInt8) ? Cast(DType::kInt32) : *this;
  Tensor r = x;
  if (kept != shape()) r = MakeOp(op, x.dtype(), kept, device(), {x.node_}, norm);
  return keepdim ? r : r.Reshape(dropped);
}

Tensor Tensor::Sum(const std::vector<int>& axes, bool keepdim) const { return Reduce(Op::kReduceSum, axes, keepdim, "sum"); }
Tensor Tensor::Max(const std::vector<int>& axes, bool keepdim) const { return Reduce(Op::kReduceMax, axes, keepdim, "max"); }
Tensor Tensor::Min(const std::vector<int>& axes, bool keepdim) const {
  if (dtype() == DType::kBool) return LogicalNot().Max(axes, keepdim).LogicalNot();
  return Neg().Max(axes, keepdim).Neg();
}

Tensor Tensor::Mean(const std::vector<int>& axes, bool keepdim) const {
  if (!ok()) return *this;
  Tensor s = (IsFloat(dtype()) ? *this : Cast(DType::kFloat32)).Sum(axes, keepdim);
  if (!s.ok() || numel() == 0) return s;
  return s.Mul(static_cast<double>(s.numel()) / static_cast<double>(numel()));
}

Tensor Tensor::Var(const std::vector<int>& axes, bool keepdim, double correction) const {
  if (!ok()) return *this;
  Tensor x = IsFloat(dtype()) ? *this : Cast(DType::kFloat32);
  Tensor mean = x.Mean(axes, true);
  Tensor d = x.Sub(mean);
  Tensor ss = d.Mul(d).Sum(axes, keepdim);
  if (!ss.ok()) return ss;
  double n = static_cast<double>(numel()) / static_cast<double>(std::max<int64_t>(ss.numel(), 1));
  return ss.Div(std::max(n - correction, 0.0));
}

Tensor Tensor::Argmax(int axis, bool keepdim) const {
  if (!ok()) return *this;
  auto a = NormalizeAxis(axis, ndim(), shape(), "argmax");
  if (!a.ok()) return Error(a.status());
  int64_t n = shape()[*a];
  // The first maximum has the largest (n - index); max of that over the axis gives n - argmax.
  Shape bshape(ndim(), 1);
  bshape[*a] = n;
  Tensor rev = Arange(static_cast<double>(n), 0, -1, DType::kInt32, device()).Reshape(bshape);
  Tensor is_max = Eq(Max({*a}, true));
  Tensor score = Where(is_max, rev, Full({}, 0, DType::kInt32, device()));
  return Full({}, static_cast<double>(n), DType::kInt32, device()).Sub(score.Max({*a}, keepdim));
}

}  // namespace petabox
