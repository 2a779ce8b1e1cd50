// MultiTensor: movement ops (keeping the sharding where it can be expressed) and matmul.
#include <algorithm>

#include "engine/multi.h"
#include "engine/tensor_internal.h"

namespace petabox {
namespace {

int64_t ProductOf(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

// `shape` with one -1 filled in so that it holds `numel` elements, or the error Tensor's
// reshape gives.
StatusOr<Shape> InferShape(Shape shape, int64_t numel, const Shape& from) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && infer < 0) infer = static_cast<int>(i);
    else known *= shape[i];
  }
  if (infer >= 0 && known > 0 && numel % known == 0) shape[infer] = numel / known;
  if (Product(shape) != numel || std::any_of(shape.begin(), shape.end(), [](int64_t s) { return s < 0; }))
    return InvalidArgument("reshape: cannot reshape " + ShapeToString(from) + " to " + ShapeToString(shape));
  return shape;
}

}  // namespace

MultiTensor MultiTensor::Reshape(const Shape& raw) const {
  if (!ok()) return *this;
  StatusOr<Shape> shape = InferShape(raw, Product(shape_), shape_);
  if (!shape.ok()) return Error(shape.status());
  const Shape& to = *shape;
  if (replicated()) return Map([&](const Tensor& t) { return t.Reshape(to); });
  // The sharded rows stay in blocks when some new axis b starts where axis_ starts
  // (same product before it) and every block boundary falls on a whole row of axis b.
  const int64_t before = ProductOf(shape_, 0, axis_), row = ProductOf(shape_, axis_ + 1, shape_.size());
  int b = -1;
  int64_t prefix = 1;
  for (size_t i = 0; i < to.size() && prefix <= before; ++i) {
    if (prefix == before && to[i] != 1) {
      b = static_cast<int>(i);
      break;
    }
    prefix *= to[i];
  }
  if (b >= 0 && before > 0 && row > 0) {
    const int64_t new_row = ProductOf(to, b + 1, to.size());
    std::vector<Range> blocks = bounds();
    bool aligned = new_row > 0;
    for (const Range& r : blocks) aligned = aligned && (r.first * row) % new_row == 0 && (r.second * row) % new_row == 0;
    if (aligned) {
      std::vector<Tensor> out;
      for (size_t i = 0; i < shards_.size(); ++i) {
        Shape s = to;
        s[b] = (blocks[i].second - blocks[i].first) * row / new_row;
        out.push_back(shards_[i].Reshape(s));
      }
      return FromShards(std::move(out), b);
    }
  }
  return Reshard(kReplicated).Reshape(to);
}

MultiTensor MultiTensor::Permute(const std::vector<int>& order) const {
  if (!ok()) return *this;
  MultiTensor out = Map([&](const Tensor& t) { return t.Permute(order); });
  if (!out.ok() || replicated()) return out;
  int axis = kReplicated;
  for (size_t i = 0; i < order.size(); ++i)
    if ((order[i] < 0 ? order[i] + ndim() : order[i]) == axis_) axis = static_cast<int>(i);
  return FromShards(out.shards_, axis);
}

MultiTensor MultiTensor::Transpose(int a, int b) const {
  if (!ok()) return *this;
  auto na = NormalizeAxis(a, ndim(), shape_, "transpose"), nb = NormalizeAxis(b, ndim(), shape_, "transpose");
  if (!na.ok()) return Error(na.status());
  if (!nb.ok()) return Error(nb.status());
  std::vector<int> order;
  for (int i = 0; i < ndim(); ++i) order.push_back(i);
  if (ndim() > 0) std::swap(order[*na], order[*nb]);
  return Permute(order);
}

MultiTensor MultiTensor::Expand(const Shape& shape) const {
  if (!ok()) return *this;
  if (replicated()) return Map([&](const Tensor& t) { return t.Expand(shape); });
  const int axis = axis_ + static_cast<int>(shape.size()) - ndim();
  if (axis < 0 || (shape[axis] != -1 && shape[axis] != shape_[axis_])) return Reshard(kReplicated).Expand(shape);
  std::vector<Tensor> out;
  for (const Tensor& t : shards_) {
    Shape s = shape;
    s[axis] = t.shape()[axis_];
    out.push_back(t.Expand(s));
  }
  return FromShards(std::move(out), axis);
}

MultiTensor MultiTensor::Pad(const std::vector<Range>& pads, double value) const {
  if (!ok()) return *this;
  if (replicated() || static_cast<int>(pads.size()) != ndim()) return Map([&](const Tensor& t) { return t.Pad(pads, value); });
  // The rows padded before the sharded axis go to the first block, those after to the last.
  std::vector<Tensor> out;
  for (size_t i = 0; i < shards_.size(); ++i) {
    std::vector<Range> p = pads;
    p[axis_] = {i == 0 ? pads[axis_].first : 0, i + 1 == shards_.size() ? pads[axis_].second : 0};
    out.push_back(shards_[i].Pad(p, value));
  }
  return FromShards(std::move(out), axis_);
}

MultiTensor MultiTensor::Shrink(const std::vector<Range>& ranges) const {
  if (!ok()) return *this;
  if (replicated() || static_cast<int>(ranges.size()) != ndim()) return Map([&](const Tensor& t) { return t.Shrink(ranges); });
  const Range want = ranges[axis_];
  if (want.first < 0 || want.second > shape_[axis_] || want.first > want.second) {
    return Error(InvalidArgument("shrink: range [" + std::to_string(want.first) + ", " + std::to_string(want.second) +
                                 ") of axis " + std::to_string(axis_) + " is outside shape " + ShapeToString(shape_)));
  }
  // Each block keeps its rows inside the range (possibly none).
  std::vector<Range> blocks = bounds();
  std::vector<Tensor> out;
  for (size_t i = 0; i < shards_.size(); ++i) {
    const int64_t size = blocks[i].second - blocks[i].first;
    const int64_t begin = std::clamp(want.first - blocks[i].first, int64_t{0}, size);
    const int64_t end = std::clamp(want.second - blocks[i].first, begin, size);
    std::vector<Range> r = ranges;
    r[axis_] = {begin, end};
    out.push_back(shards_[i].Shrink(r));
  }
  return FromShards(std::move(out), axis_);
}

MultiTensor MultiTensor::Flip(const std::vector<int>& axes) const {
  if (!ok()) return *this;
  bool flips_shards = false;
  for (int a : axes) flips_shards |= !replicated() && (a < 0 ? a + ndim() : a) == axis_;
  // Flipping the sharded axis would reverse the device order of the blocks: gather instead.
  if (flips_shards) return Reshard(kReplicated).Flip(axes).Reshard(axis_);
  return Map([&](const Tensor& t) { return t.Flip(axes); });
}

// ---------------------------------------------------------------- matmul

MultiTensor MultiTensor::Matmul(const MultiTensor& o) const {
  if (!ok()) return *this;
  if (!o.ok()) return o;
  if (ndim() < 2 || o.ndim() < 2) {
    return Error(InvalidArgument("matmul: multi-tensor operands need at least 2 dims, got " + ShapeToString(shape_) +
                                 " @ " + ShapeToString(o.shape_)));
  }
  if (devices() != o.devices()) return Error(InvalidArgument("matmul: operands on different devices"));
  const int ka = ndim() - 1, kb = o.ndim() - 2, rank = std::max(ndim(), o.ndim());
  auto partial_products = [](const std::vector<Tensor>& a, const std::vector<Tensor>& b) -> MultiTensor {
    std::vector<Tensor> p;
    for (size_t i = 0; i < a.size(); ++i) p.push_back(a[i].Matmul(b[i]));
    for (const Tensor& t : p)
      if (!t.ok()) return Error(t.status());
    StatusOr<std::vector<Tensor>> sum = AllReduce(p);
    if (!sum.ok()) return Error(sum.status());
    return FromShards(std::move(*sum), kReplicated);
  };
  // The inner dimension sharded on either side: partial products, all-reduced.
  if (axis_ == ka || (replicated() && o.axis_ == kb)) {
    const MultiTensor& sharded = axis_ == ka ? *this : o;
    const MultiTensor& other = axis_ == ka ? o : *this;
    const int other_k = axis_ == ka ? kb : ka;
    if (other.axis_ == other_k && other.bounds() == sharded.bounds())  // already lined up
      return axis_ == ka ? partial_products(shards_, o.shards_) : partial_products(shards_, o.shards_);
    MultiTensor whole = other.Reshard(kReplicated);
    if (!whole.ok()) return whole;
    std::vector<Range> blocks = sharded.bounds();
    std::vector<Tensor> pieces;
    for (size_t i = 0; i < blocks.size(); ++i) {
      std::vector<Range> r;
      for (int64_t s : whole.shards_[i].shape()) r.push_back({0, s});
      r[other_k] = blocks[i];
      pieces.push_back(whole.shards_[i].Shrink(r));
    }
    return axis_ == ka ? partial_products(shards_, pieces) : partial_products(pieces, o.shards_);
  }
  // Rows (or a batch axis) of this sharded: the other operand is replicated, or cut along
  // the same batch axis when it has one of the same size.
  if (!replicated()) {
    MultiTensor whole = o.Reshard(kReplicated).WithRank(rank);
    const int axis = axis_ + rank - ndim();
    std::vector<Range> blocks = bounds();
    std::vector<Tensor> out;
    for (size_t i = 0; i < shards_.size(); ++i) {
      Tensor b = whole.shards_[i];
      if (axis < rank - 2 && b.shape()[axis] != 1) {
        std::vector<Range> r;
        for (int64_t s : b.shape()) r.push_back({0, s});
        r[axis] = blocks[i];
        b = b.Shrink(r);
      }
      out.push_back(shards_[i].Matmul(b));
    }
    return FromShards(std::move(out), axis);
  }
  // This replicated, the other sharded on its columns: the result's columns are sharded.
  if (o.axis_ == o.ndim() - 1) {
    std::vector<Tensor> out;
    for (size_t i = 0; i < shards_.size(); ++i) out.push_back(shards_[i].Matmul(o.shards_[i]));
    return FromShards(std::move(out), rank - 1);
  }
  MultiTensor b = o.Reshard(kReplicated);
  std::vector<Tensor> out;
  for (size_t i = 0; i < shards_.size(); ++i) out.push_back(shards_[i].Matmul(b.shards_[i]));
  return FromShards(std::move(out), kReplicated);
}

}  // namespace petabox
