// MultiTensor: creation, layout (resharding, gathering), elementwise ops, reductions and
// realization. Movement ops and matmul are in multi_movement.cc.
#include "engine/multi.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "engine/tensor_internal.h"

namespace petabox {
namespace {

// Even blocks of `rows` over `n` devices: the first rows % n blocks get one row more.
std::vector<Range> EvenBounds(int64_t rows, size_t n) {
  std::vector<Range> b;
  int64_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t size = rows / static_cast<int64_t>(n) + (static_cast<int64_t>(i) < rows % static_cast<int64_t>(n));
    b.push_back({begin, begin + size});
    begin += size;
  }
  return b;
}

// t with rows `r` of `axis` kept.
Tensor Rows(const Tensor& t, int axis, Range r) {
  std::vector<Range> ranges;
  for (int64_t s : t.shape()) ranges.push_back({0, s});
  ranges[axis] = r;
  return t.Shrink(ranges);
}

std::string DeviceList(const std::vector<std::string>& devices) {
  std::string out;
  for (const std::string& d : devices) out += (out.empty() ? "" : ",") + d;
  return out;
}

}  // namespace

MultiTensor::MultiTensor() : status_(FailedPrecondition("uninitialized multi-tensor")) {}

MultiTensor MultiTensor::Error(Status status) {
  MultiTensor m;
  m.status_ = std::move(status);
  return m;
}

DType MultiTensor::dtype() const { return shards_.empty() ? DType::kFloat32 : shards_[0].dtype(); }

std::vector<std::string> MultiTensor::devices() const {
  std::vector<std::string> out;
  for (const Tensor& t : shards_) out.push_back(t.device());
  return out;
}

std::vector<Range> MultiTensor::bounds() const {
  std::vector<Range> out;
  if (replicated()) {
    for (size_t i = 0; i < shards_.size(); ++i) out.push_back({0, shape_.empty() ? 1 : shape_[0]});
    return out;
  }
  int64_t begin = 0;
  for (const Tensor& t : shards_) {
    out.push_back({begin, begin + t.shape()[axis_]});
    begin += t.shape()[axis_];
  }
  return out;
}

MultiTensor MultiTensor::FromShards(std::vector<Tensor> shards, int axis) {
  if (shards.empty()) return Error(InvalidArgument("multi-tensor: no shards"));
  std::set<std::string> devices;
  for (const Tensor& t : shards) {
    if (!t.ok()) return Error(t.status());
    if (!devices.insert(t.device()).second)
      return Error(InvalidArgument("multi-tensor: device " + t.device() + " holds two shards"));
  }
  const Tensor& first = shards[0];
  if (axis != kReplicated && (axis < 0 || axis >= first.ndim()))
    return Error(InvalidArgument("multi-tensor: axis " + std::to_string(axis) + " is out of range for shape " +
                                 ShapeToString(first.shape())));
  Shape shape = first.shape();
  if (axis != kReplicated) shape[axis] = 0;
  for (const Tensor& t : shards) {
    Shape s = t.shape();
    if (axis != kReplicated && static_cast<int>(s.size()) == first.ndim()) {
      shape[axis] += s[axis];
      s[axis] = first.shape()[axis];
    }
    if (s != first.shape() || t.dtype() != first.dtype()) {
      return Error(InvalidArgument("multi-tensor: shard " + std::string(Name(t.dtype())) + ShapeToString(t.shape()) +
                                   " on " + t.device() + " does not fit " + Name(first.dtype()) +
                                   ShapeToString(first.shape()) +
                                   (axis == kReplicated ? " (replicated)" : " sharded on axis " + std::to_string(axis))));
    }
  }
  return MultiTensor(std::move(shards), axis, std::move(shape));
}

MultiTensor MultiTensor::Replicate(const Tensor& t, const std::vector<std::string>& devices) {
  if (!t.ok()) return Error(t.status());
  if (devices.empty()) return Error(InvalidArgument("replicate: no devices"));
  std::vector<Tensor> shards;
  for (const std::string& d : devices) shards.push_back(t.To(d));
  return FromShards(std::move(shards), kReplicated);
}

MultiTensor MultiTensor::Shard(const Tensor& t, const std::vector<std::string>& devices, int axis) {
  if (!t.ok()) return Error(t.status());
  if (devices.empty()) return Error(InvalidArgument("shard: no devices"));
  auto a = NormalizeAxis(axis, t.ndim(), t.shape(), "shard");
  if (!a.ok() || t.ndim() == 0) return Error(a.ok() ? InvalidArgument("shard: a scalar has no axis") : a.status());
  std::vector<Tensor> shards;
  std::vector<Range> b = EvenBounds(t.shape()[*a], devices.size());
  for (size_t i = 0; i < devices.size(); ++i) shards.push_back(Rows(t, *a, b[i]).To(devices[i]));
  return FromShards(std::move(shards), *a);
}

// ---------------------------------------------------------------- layout

MultiTensor MultiTensor::Reshard(int axis) const {
  if (!ok()) return *this;
  if (axis != kReplicated) {
    auto a = NormalizeAxis(axis, ndim(), shape_, "reshard");
    if (!a.ok() || ndim() == 0) return Error(a.ok() ? InvalidArgument("reshard: a scalar has no axis") : a.status());
    axis = *a;
  }
  std::vector<Tensor> whole;  // the value on every device
  if (replicated()) {
    if (axis == kReplicated) return *this;
    whole = shards_;
  } else {
    std::vector<Range> b = bounds(), even = EvenBounds(shape_[axis_], shards_.size());
    if (axis == axis_ && b == even) return *this;
    for (const Tensor& s : shards_) whole.push_back(To(s.device()));
  }
  if (axis == kReplicated) return FromShards(std::move(whole), kReplicated);
  std::vector<Range> even = EvenBounds(shape_[axis], whole.size());
  for (size_t i = 0; i < whole.size(); ++i) whole[i] = Rows(whole[i], axis, even[i]);
  return FromShards(std::move(whole), axis);
}

Tensor MultiTensor::To(const std::string& device) const {
  if (!ok()) return Tensor::Error(status_);
  auto dev = ResolveDevice(device);
  if (!dev.ok()) return Tensor::Error(dev.status());
  if (replicated()) {
    for (const Tensor& s : shards_)
      if (s.device() == *dev) return s;
    return shards_[0].To(*dev);
  }
  std::vector<Tensor> parts;
  for (const Tensor& s : shards_)
    if (s.shape()[axis_] > 0) parts.push_back(s.To(*dev));
  if (parts.empty()) return shards_[0].To(*dev);
  return parts.size() == 1 ? parts[0] : Tensor::Cat(parts, axis_);
}

StatusOr<std::vector<Tensor>> MultiTensor::AlignedTo(const MultiTensor& layout) const {
  if (devices() != layout.devices()) {
    return InvalidArgument("multi-tensor: operands on devices " + DeviceList(devices()) + " and " +
                           DeviceList(layout.devices()));
  }
  if (layout.replicated()) {
    if (replicated()) return shards_;
    return Reshard(kReplicated).shards_;
  }
  const int a = layout.axis_;
  if (shape_[a] == 1 && replicated()) return shards_;  // broadcast along the sharded axis
  if (axis_ == a && bounds() == layout.bounds()) return shards_;
  const MultiTensor whole = Reshard(kReplicated);
  if (!whole.ok()) return whole.status();
  if (shape_[a] == 1) return whole.shards_;
  std::vector<Range> b = layout.bounds();
  std::vector<Tensor> out;
  for (size_t i = 0; i < whole.shards_.size(); ++i) out.push_back(Rows(whole.shards_[i], a, b[i]));
  return out;
}

MultiTensor MultiTensor::WithRank(int rank) const {
  if (!ok() || rank <= ndim()) return *this;
  const int extra = rank - ndim();
  std::vector<Tensor> out;
  for (const Tensor& s : shards_) {
    Shape shape(extra, 1);
    shape.insert(shape.end(), s.shape().begin(), s.shape().end());
    out.push_back(s.Reshape(shape));
  }
  return FromShards(std::move(out), replicated() ? kReplicated : axis_ + extra);
}

// ---------------------------------------------------------------- elementwise

MultiTensor Elementwise(const std::vector<MultiTensor>& operands,
                        const std::function<Tensor(const std::vector<Tensor>&)>& fn) {
  int rank = 0;
  for (const MultiTensor& m : operands) {
    if (!m.ok()) return m;
    rank = std::max(rank, m.ndim());
  }
  std::vector<MultiTensor> lifted;
  const MultiTensor* layout = nullptr;
  for (const MultiTensor& m : operands) lifted.push_back(m.WithRank(rank));
  for (const MultiTensor& m : lifted)
    if (!layout && !m.replicated()) layout = &m;
  if (!layout) layout = &lifted[0];
  std::vector<std::vector<Tensor>> pieces;
  for (const MultiTensor& m : lifted) {
    StatusOr<std::vector<Tensor>> p = m.AlignedTo(*layout);
    if (!p.ok()) return MultiTensor::Error(p.status());
    pieces.push_back(std::move(*p));
  }
  std::vector<Tensor> out;
  for (size_t d = 0; d < pieces[0].size(); ++d) {
    std::vector<Tensor> args;
    for (const auto& p : pieces) args.push_back(p[d]);
    out.push_back(fn(args));
  }
  return MultiTensor::FromShards(std::move(out), layout->axis());
}

MultiTensor MultiTensor::Binary(const MultiTensor& o, Tensor (Tensor::*op)(const Tensor&) const) const {
  return Elementwise({*this, o}, [op](const std::vector<Tensor>& a) { return (a[0].*op)(a[1]); });
}

MultiTensor MultiTensor::Add(const MultiTensor& o) const { return Binary(o, &Tensor::Add); }
MultiTensor MultiTensor::Sub(const MultiTensor& o) const { return Binary(o, &Tensor::Sub); }
MultiTensor MultiTensor::Mul(const MultiTensor& o) const { return Binary(o, &Tensor::Mul); }
MultiTensor MultiTensor::Div(const MultiTensor& o) const { return Binary(o, &Tensor::Div); }
MultiTensor MultiTensor::Maximum(const MultiTensor& o) const { return Binary(o, &Tensor::Maximum); }
MultiTensor MultiTensor::Lt(const MultiTensor& o) const { return Binary(o, &Tensor::Lt); }
MultiTensor MultiTensor::Eq(const MultiTensor& o) const { return Binary(o, &Tensor::Eq); }

MultiTensor MultiTensor::Map(const std::function<Tensor(const Tensor&)>& fn) const {
  if (!ok()) return *this;
  std::vector<Tensor> out;
  for (const Tensor& s : shards_) out.push_back(fn(s));
  return FromShards(std::move(out), axis_);
}

MultiTensor MultiTensor::Add(double v) const { return Map([v](const Tensor& t) { return t.Add(v); }); }
MultiTensor MultiTensor::Mul(double v) const { return Map([v](const Tensor& t) { return t.Mul(v); }); }
MultiTensor MultiTensor::Neg() const { return Map([](const Tensor& t) { return t.Neg(); }); }
MultiTensor MultiTensor::Exp() const { return Map([](const Tensor& t) { return t.Exp(); }); }
MultiTensor MultiTensor::Log() const { return Map([](const Tensor& t) { return t.Log(); }); }
MultiTensor MultiTensor::Sqrt() const { return Map([](const Tensor& t) { return t.Sqrt(); }); }
MultiTensor MultiTensor::Relu() const { return Map([](const Tensor& t) { return t.Relu(); }); }
MultiTensor MultiTensor::Cast(DType d) const { return Map([d](const Tensor& t) { return t.Cast(d); }); }

MultiTensor MultiTensor::Where(const MultiTensor& cond, const MultiTensor& a, const MultiTensor& b) {
  return Elementwise({cond, a, b}, [](const std::vector<Tensor>& x) { return Tensor::Where(x[0], x[1], x[2]); });
}

// ---------------------------------------------------------------- reductions

MultiTensor MultiTensor::Reduce(bool max, const std::vector<int>& raw_axes, bool keepdim) const {
  if (!ok()) return *this;
  std::vector<int> axes;
  for (int a : raw_axes) {
    auto n = NormalizeAxis(a, ndim(), shape_, max ? "max" : "sum");
    if (!n.ok()) return Error(n.status());
    axes.push_back(*n);
  }
  if (axes.empty())
    for (int i = 0; i < ndim(); ++i) axes.push_back(i);
  auto reduce = [&](const Tensor& t, bool keep) { return max ? t.Max(axes, keep) : t.Sum(axes, keep); };
  const bool over_shards = !replicated() && std::find(axes.begin(), axes.end(), axis_) != axes.end();
  if (!over_shards) {
    int axis = axis_;
    if (!replicated() && !keepdim)
      for (int a : axes) axis -= a < axis_;
    std::vector<Tensor> out;
    for (const Tensor& s : shards_) out.push_back(reduce(s, keepdim));
    return FromShards(std::move(out), axis);
  }
  // Each shard's partial result, then the all-reduce of the partials (an empty shard
  // contributes the identity).
  std::vector<Tensor> partial;
  for (const Tensor& s : shards_) {
    if (s.shape()[axis_] > 0) {
      partial.push_back(reduce(s, true));
    } else {
      Shape kept = s.shape();
      for (int a : axes) kept[a] = 1;
      partial.push_back(Tensor::Full(kept, max ? -std::numeric_limits<double>::infinity() : 0, dtype(), s.device()));
    }
  }
  AllReduceOptions options;
  options.op = max ? ReduceOp::kMax : ReduceOp::kSum;
  StatusOr<std::vector<Tensor>> reduced = AllReduce(partial, options);
  if (!reduced.ok()) return Error(reduced.status());
  MultiTensor out = FromShards(std::move(*reduced), kReplicated);
  if (keepdim) return out;
  Shape shape;
  for (int i = 0; i < ndim(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) shape.push_back(shape_[i]);
  return out.Reshape(shape);
}

MultiTensor MultiTensor::Sum(const std::vector<int>& axes, bool keepdim) const { return Reduce(false, axes, keepdim); }
MultiTensor MultiTensor::Max(const std::vector<int>& axes, bool keepdim) const { return Reduce(true, axes, keepdim); }

MultiTensor MultiTensor::Mean(const std::vector<int>& axes, bool keepdim) const {
  MultiTensor sum = Sum(axes, keepdim);
  if (!sum.ok()) return sum;
  const int64_t count = std::max<int64_t>(1, Product(shape_) / std::max<int64_t>(1, Product(sum.shape())));
  return sum.Mul(1.0 / static_cast<double>(count));
}

// ---------------------------------------------------------------- realization

Status MultiTensor::Realize() {
  if (!ok()) return status_;
  std::vector<Tensor*> all;
  for (Tensor& s : shards_) all.push_back(&s);
  return RealizeAll(all);
}

StatusOr<std::vector<float>> MultiTensor::ToFloats() const {
  if (!ok()) return status_;
  return To(shards_[0].device()).ToFloats();
}

}  // namespace petabox
