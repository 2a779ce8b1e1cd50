// Reductions: SUM and MAX are primitives; the rest are composed.
#include <algorithm>
#include <cmath>

#include "engine/autocast.h"
#include "engine/device_source.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"
#include "engine/tensor_internal.h"

namespace petabox {
namespace {

// One reduce primitive over `axis`, dropping it.
Tensor ReduceAxis(Op op, const Tensor& t, int axis) {
  Shape kept = t.shape(), dropped = t.shape();
  kept[axis] = 1;
  dropped.erase(dropped.begin() + axis);
  return MakeOp(op, t.dtype(), kept, t.device(), {t.node()}, std::vector<int>{axis}).Reshape(dropped);
}

// How many interleaved partial results a big reduce with few outputs is split into (0: none).
int64_t SplitGroups(int64_t outputs, int64_t reduce_size) {
  if (reduce_size < 8192 || outputs >= 4096) return 0;
  int64_t g = 16;
  while (g * 2 * outputs <= 16384 && g * 2 <= 1024 && g * 2 * 64 <= reduce_size) g *= 2;
  return g;
}

}  // namespace

// A big reduction with few outputs runs as two kernels, so it is spread over cores/threads:
// G partial results over contiguous chunks (each a reduce that a GPU kernel splits further
// over a block's threads), then a reduce of the G partials. `x` is (outputs..., R), R reduced.
Tensor SplitReduce(Op op, const Tensor& x, int64_t groups) {
  int64_t r = x.shape().back(), rows = (r + groups - 1) / groups;
  Shape out(x.shape().begin(), x.shape().end() - 1);
  std::vector<Range> pads(x.ndim(), {0, 0});
  pads.back() = {0, rows * groups - r};
  double identity = 0;
  if (op == Op::kReduceMax) identity = IsFloat(x.dtype()) ? -INFINITY : (x.dtype() == DType::kInt64 ? -9.2e18 : -2147483648.0);
  Shape split = out;
  split.insert(split.end(), {groups, rows});
  Tensor t = x.Pad(pads, identity).Reshape(split);
  Tensor partial = ReduceAxis(op, t, t.ndim() - 1);
  return ReduceAxis(op, partial, partial.ndim() - 1);
}

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
  int64_t outputs = Product(dropped);
  // Only where the device splits (not the tracing device: the group count follows the number
  // of outputs, which grows with the batch, and a captured graph's shapes must be a + b*N).
  bool split = numel() && CapabilitiesOf(device()).splits_big_reductions;
  int64_t groups = split ? SplitGroups(outputs, numel() / outputs) : 0;
  // Split only trailing reduce axes of a plainly laid out tensor: regrouping a permuted or
  // windowed view would turn every load into div/mod index arithmetic.
  bool trailing = !norm.empty() && norm.front() == ndim() - static_cast<int>(norm.size());
  if (kept != shape() && groups > 0 && trailing && ViewFromBase(x.node().get()).views().size() == 1) {
    Shape flat = dropped;
    flat.push_back(numel() / outputs);
    Tensor r = SplitReduce(op, x.Reshape(flat), groups);
    return keepdim ? r.Reshape(kept) : r;
  }
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
  Tensor s = (IsFloat(dtype()) ? AutocastWide(*this) : Cast(DType::kFloat32)).Sum(axes, keepdim);
  if (!s.ok() || numel() == 0) return s;
  return s.Mul(static_cast<double>(s.numel()) / static_cast<double>(numel()));
}

Tensor Tensor::Var(const std::vector<int>& axes, bool keepdim, double correction) const {
  if (!ok()) return *this;
  Tensor x = IsFloat(dtype()) ? AutocastWide(*this) : Cast(DType::kFloat32);
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
