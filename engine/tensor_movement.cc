// Movement ops: validated here, zero-copy below (they only rewrite views).
#include <algorithm>
#include <numeric>

#include "engine/tensor.h"
#include "engine/tensor_internal.h"

namespace petabox {

Tensor Tensor::Movement(Op op, Shape shape, NodeArg arg) const {
  if (!ok()) return *this;
  bool identity = op == Op::kReshape || op == Op::kExpand || op == Op::kShrink;  // same shape = no-op
  if (identity && shape == this->shape()) return *this;
  return MakeOp(op, dtype(), shape, device(), {node_}, std::move(arg));
}

Tensor Tensor::Reshape(const Shape& shape) const {
  if (!ok()) return *this;
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1 && infer < 0) { infer = static_cast<int>(i); continue; }
    if (s[i] < 0) {
      return Error(InvalidArgument("reshape: cannot reshape " + ShapeToString(this->shape()) + " to " +
                                   ShapeToString(shape) + " (only one -1 and no other negative sizes)"));
    }
    known *= s[i];
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0)
      return Error(InvalidArgument("reshape: cannot reshape " + ShapeToString(this->shape()) + " to " + ShapeToString(shape)));
    s[infer] = numel() / known;
  }
  if (Product(s) != numel()) {
    return Error(InvalidArgument("reshape: cannot reshape " + ShapeToString(this->shape()) + " (" +
                                 std::to_string(numel()) + " elements) to " + ShapeToString(shape)));
  }
  return Movement(Op::kReshape, s, s);
}

Tensor Tensor::Permute(const std::vector<int>& order) const {
  if (!ok()) return *this;
  std::vector<int> o;
  std::vector<bool> seen(ndim(), false);
  bool valid = static_cast<int>(order.size()) == ndim();
  for (int a : order) {
    int n = a < 0 ? a + ndim() : a;
    if (n < 0 || n >= ndim() || seen[n]) { valid = false; break; }
    seen[n] = true;
    o.push_back(n);
  }
  if (!valid) {
    std::string ord;
    for (size_t i = 0; i < order.size(); ++i) ord += (i ? ", " : "") + std::to_string(order[i]);
    return Error(InvalidArgument("permute: (" + ord + ") is not a permutation of the axes of shape " +
                                 ShapeToString(shape())));
  }
  Shape s;
  for (int a : o) s.push_back(shape()[a]);
  if (std::is_sorted(o.begin(), o.end())) return *this;
  return Movement(Op::kPermute, s, o);
}

Tensor Tensor::Transpose(int a, int b) const {
  if (!ok()) return *this;
  auto na = NormalizeAxis(a, ndim(), shape(), "transpose");
  auto nb = NormalizeAxis(b, ndim(), shape(), "transpose");
  if (!na.ok()) return Error(na.status());
  if (!nb.ok()) return Error(nb.status());
  std::vector<int> order(ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[*na], order[*nb]);
  return Permute(order);
}

Tensor Tensor::Expand(const Shape& shape) const {
  if (!ok()) return *this;
  if (shape.size() < this->shape().size()) {
    return Error(InvalidArgument("expand: cannot expand " + ShapeToString(this->shape()) + " to fewer dims " +
                                 ShapeToString(shape)));
  }
  size_t lead = shape.size() - this->shape().size();
  Shape src(lead, 1);
  src.insert(src.end(), this->shape().begin(), this->shape().end());
  Shape out = shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (out[i] == -1) out[i] = src[i];
    if (src[i] != out[i] && src[i] != 1) {
      return Error(InvalidArgument("expand: cannot expand " + ShapeToString(this->shape()) + " to " +
                                   ShapeToString(shape)));
    }
  }
  Tensor t = lead ? Reshape(src) : *this;
  return t.Movement(Op::kExpand, out, out);
}

Tensor Tensor::Pad(const std::vector<Range>& pads, double value) const {
  if (!ok()) return *this;
  if (static_cast<int>(pads.size()) != ndim()) {
    return Error(InvalidArgument("pad: " + std::to_string(pads.size()) + " (before, after) pairs for shape " +
                                 ShapeToString(shape())));
  }
  Shape s = shape();
  bool any = false;
  for (size_t i = 0; i < pads.size(); ++i) {
    if (pads[i].first < 0 || pads[i].second < 0)
      return Error(InvalidArgument("pad: negative padding for shape " + ShapeToString(shape())));
    s[i] += pads[i].first + pads[i].second;
    any |= pads[i].first || pads[i].second;
  }
  if (!any) return *this;
  Tensor padded = Movement(Op::kPad, s, pads);
  if (value == 0) return padded;
  Tensor inside = Full(shape(), 1, DType::kBool, device()).Movement(Op::kPad, s, pads);
  return Where(inside, padded, Scalar(value));
}

Tensor Tensor::Shrink(const std::vector<Range>& ranges) const {
  if (!ok()) return *this;
  bool valid = static_cast<int>(ranges.size()) == ndim();
  Shape s;
  for (size_t i = 0; valid && i < ranges.size(); ++i) {
    valid = 0 <= ranges[i].first && ranges[i].first <= ranges[i].second && ranges[i].second <= shape()[i];
    s.push_back(ranges[i].second - ranges[i].first);
  }
  if (!valid) return Error(InvalidArgument("shrink: ranges out of bounds for shape " + ShapeToString(shape())));
  return Movement(Op::kShrink, s, ranges);
}

Tensor Tensor::Flip(const std::vector<int>& axes) const {
  if (!ok()) return *this;
  std::vector<int> norm;
  for (int a : axes) {
    auto n = NormalizeAxis(a, ndim(), shape(), "flip");
    if (!n.ok()) return Error(n.status());
    if (shape()[*n] > 1) norm.push_back(*n);
  }
  if (norm.empty()) return *this;
  std::sort(norm.begin(), norm.end());
  norm.erase(std::unique(norm.begin(), norm.end()), norm.end());
  return Movement(Op::kFlip, shape(), norm);
}

Tensor Tensor::Slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  if (!ok()) return *this;
  auto a = NormalizeAxis(axis, ndim(), shape(), "slice");
  if (!a.ok()) return Error(a.status());
  if (step == 0) return Error(InvalidArgument("slice: step must not be 0 (axis " + std::to_string(axis) +
                                                 " of shape " + ShapeToString(shape()) + ")"));
  int64_t n = shape()[*a];
  // Python semantics: negative indices count from the end, then clamp.
  auto resolve = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + n : v, lo, hi); };
  int64_t first, count;
  Tensor t = *this;
  if (step > 0) {
    first = resolve(start, 0, n);
    count = std::max<int64_t>(0, (resolve(stop, 0, n) - first + step - 1) / step);
  } else {
    int64_t s = resolve(start, -1, n - 1), e = resolve(stop, -1, n - 1);
    count = std::max<int64_t>(0, (s - e - step - 1) / -step);
    t = t.Flip({*a});  // element p is at n-1-p in the flipped tensor
    first = n - 1 - s;
    step = -step;
  }
  std::vector<Range> r(ndim());
  for (int i = 0; i < ndim(); ++i) r[i] = {0, shape()[i]};
  r[*a] = {first, count ? first + (count - 1) * step + 1 : first};
  t = t.Shrink(r);
  if (step == 1 || count <= 1) return t;
  // Every step-th element: pad to count*step, view as (count, step), keep column 0.
  std::vector<Range> pads(ndim(), {0, 0});
  pads[*a] = {0, step - 1};
  Shape s = t.Pad(pads).shape();
  s[*a] = count;
  s.insert(s.begin() + *a + 1, step);
  std::vector<Range> keep;
  for (int64_t d : s) keep.push_back({0, d});
  keep[*a + 1] = {0, 1};
  Shape out = shape();
  out[*a] = count;
  return t.Pad(pads).Reshape(s).Shrink(keep).Reshape(out);
}

Tensor Tensor::Flatten(int start, int end) const {
  if (!ok()) return *this;
  if (ndim() == 0) return Reshape({1});
  auto s = NormalizeAxis(start, ndim(), shape(), "flatten");
  auto e = NormalizeAxis(end, ndim(), shape(), "flatten");
  if (!s.ok()) return Error(s.status());
  if (!e.ok()) return Error(e.status());
  Shape out(shape().begin(), shape().begin() + *s);
  int64_t mid = 1;
  for (int i = *s; i <= *e; ++i) mid *= shape()[i];
  out.push_back(mid);
  out.insert(out.end(), shape().begin() + *e + 1, shape().end());
  return Reshape(out);
}

Tensor Tensor::Unsqueeze(int axis) const {
  if (!ok()) return *this;
  auto a = NormalizeAxis(axis, ndim() + 1, shape(), "unsqueeze");
  if (!a.ok()) return Error(a.status());
  Shape s = shape();
  s.insert(s.begin() + *a, 1);
  return Reshape(s);
}

Tensor Tensor::Squeeze(int axis) const {
  if (!ok()) return *this;
  auto a = NormalizeAxis(axis, ndim(), shape(), "squeeze");
  if (!a.ok()) return Error(a.status());
  if (shape()[*a] != 1) {
    return Error(InvalidArgument("squeeze: axis " + std::to_string(axis) + " of shape " + ShapeToString(shape()) +
                                 " is not of size 1"));
  }
  Shape s = shape();
  s.erase(s.begin() + *a);
  return Reshape(s);
}

Tensor Tensor::Cat(const std::vector<Tensor>& tensors, int axis) {
  if (tensors.empty()) return Error(InvalidArgument("cat: no tensors"));
  for (const Tensor& t : tensors)
    if (!t.ok()) return t;
  const Tensor& first = tensors[0];
  auto a = NormalizeAxis(axis, first.ndim(), first.shape(), "cat");
  if (!a.ok()) return Error(a.status());
  int64_t total = 0;
  DType dt = first.dtype();
  for (const Tensor& t : tensors) {
    Shape x = t.shape(), y = first.shape();
    if (x.size() == y.size()) x[*a] = y[*a] = 0;
    if (x != y || t.device() != first.device()) {
      return Error(InvalidArgument("cat: shape " + ShapeToString(t.shape()) + " does not match " +
                                   ShapeToString(first.shape()) + " outside axis " + std::to_string(*a)));
    }
    total += t.shape()[*a];
    dt = Promote(dt, t.dtype());
  }
  // Each piece padded to the full length along the axis; the pads are zero, so the sum is the concatenation.
  Tensor out;
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    std::vector<Range> pads(first.ndim(), {0, 0});
    pads[*a] = {offset, total - offset - t.shape()[*a]};
    offset += t.shape()[*a];
    Tensor p = t.Cast(dt).Pad(pads);
    out = out.ok() ? out.Add(p) : p;
  }
  return out;
}

Tensor Tensor::Stack(const std::vector<Tensor>& tensors, int axis) {
  if (tensors.empty()) return Error(InvalidArgument("stack: no tensors"));
  std::vector<Tensor> expanded;
  for (const Tensor& t : tensors) {
    if (!t.ok()) return t;
    if (t.shape() != tensors[0].shape()) {
      return Error(InvalidArgument("stack: shape " + ShapeToString(t.shape()) + " differs from " +
                                   ShapeToString(tensors[0].shape()) + "; all tensors must have the same shape"));
    }
    expanded.push_back(t.Unsqueeze(axis));
  }
  return Cat(expanded, axis);
}

}  // namespace petabox
