// Tensor core: creation, properties, realization and data transfer.
#include "engine/tensor.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include "engine/autograd.h"
#include "engine/device_source.h"
#include "engine/graph_ir/assign_capture.h"
#include "engine/realize.h"
#include "engine/tensor_internal.h"

namespace petabox {

StatusOr<std::string> ResolveDevice(const std::string& device) {
  return ResolveDeviceName(device);
}

StatusOr<int> NormalizeAxis(int axis, int ndim, const Shape& shape, const char* op) {
  if (axis < -ndim || axis >= std::max(ndim, 1)) {
    return InvalidArgument(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for shape " +
                           ShapeToString(shape));
  }
  return axis < 0 ? axis + ndim : axis;
}

StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      return InvalidArgument(std::string(op) + ": shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                             " cannot be broadcast together");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Status FirstError(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (!t->ok()) return t->status();
  return Status::Ok();
}

Tensor MakeOp(Op op, DType dtype, const Shape& shape, const std::string& device, std::vector<NodeRef> srcs,
              NodeArg arg) {
  NodeRef n = MakeNode(op, dtype, shape, device, std::move(srcs), std::move(arg));
  if (NoGradGuard::Active() && op != Op::kConst) n = MakeNode(Op::kDetach, dtype, shape, device, {n});
  return Tensor(std::move(n));
}

Tensor Tensor::Error(Status status) { return Tensor(std::move(status)); }

const Status& Tensor::status() const {
  static const Status* ok = new Status();
  return status_ ? *status_ : *ok;
}

const Shape& Tensor::shape() const {
  static const Shape* empty = new Shape();
  return node_ ? node_->shape : *empty;
}
DType Tensor::dtype() const { return node_ ? node_->dtype : DType::kFloat32; }
const std::string& Tensor::device() const {
  static const std::string* none = new std::string();
  return node_ ? node_->device : *none;
}

Tensor Tensor::FromData(const void* data, const Shape& shape, DType dtype, const std::string& device) {
  for (int64_t s : shape)
    if (s < 0) return Error(InvalidArgument("negative dimension in shape " + ShapeToString(shape)));
  auto dev = ResolveDevice(device);
  if (!dev.ok()) return Error(dev.status());
  auto d = GetDevice(*dev);
  auto buf = Buffer::Allocate(*d, dtype, Product(shape));
  if (!buf.ok()) return Error(buf.status());
  Status s = (*buf)->CopyIn(data, (*buf)->bytes());
  if (!s.ok()) return Error(s);
  return Tensor(MakeBufferNode(*buf, *dev, shape));
}

Tensor Tensor::FromVector(const std::vector<float>& data, const Shape& shape, DType dtype, const std::string& device) {
  if (static_cast<int64_t>(data.size()) != Product(shape)) {
    return Error(InvalidArgument("FromVector: " + std::to_string(data.size()) + " values do not fill shape " +
                                 ShapeToString(shape)));
  }
  std::vector<uint8_t> bytes(data.size() * ItemSize(dtype));
  for (size_t i = 0; i < data.size(); ++i) WriteElement(bytes.data(), dtype, static_cast<int64_t>(i), data[i]);
  return FromData(bytes.data(), shape, dtype, device);
}

Tensor Tensor::Full(const Shape& shape, double value, DType dtype, const std::string& device) {
  for (int64_t s : shape)
    if (s < 0) return Error(InvalidArgument("negative dimension in shape " + ShapeToString(shape)));
  auto dev = ResolveDevice(device);
  if (!dev.ok()) return Error(dev.status());
  if (!IsFloat(dtype)) value = dtype == DType::kBool ? (value != 0) : std::trunc(value);
  Tensor c = MakeOp(Op::kConst, dtype, {}, *dev, {}, value);
  return c.Reshape(Shape(shape.size(), 1)).Expand(shape);
}

Tensor Tensor::Zeros(const Shape& shape, DType dtype, const std::string& device) { return Full(shape, 0, dtype, device); }
Tensor Tensor::Ones(const Shape& shape, DType dtype, const std::string& device) { return Full(shape, 1, dtype, device); }

Tensor Tensor::Empty(const Shape& shape, DType dtype, const std::string& device) {
  static std::atomic<int64_t> next_id{0};
  auto dev = ResolveDevice(device);
  if (!dev.ok()) return Error(dev.status());
  return MakeOp(Op::kEmpty, dtype, shape, *dev, {}, next_id++);
}

Tensor Tensor::Arange(double start, double stop, double step, DType dtype, const std::string& device) {
  if (step == 0) return Error(InvalidArgument("Arange: step must not be 0"));
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((stop - start) / step)));
  // Built on the host: O(n), exact for every dtype.
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * ItemSize(dtype));
  for (int64_t i = 0; i < n; ++i) WriteElement(bytes.data(), dtype, i, start + static_cast<double>(i) * step);
  return FromData(bytes.data(), {n}, dtype, device);
}

Tensor Tensor::Eye(int64_t n, DType dtype, const std::string& device) {
  // A (n, n+1) reshape trick: ones at flat positions i*(n+1) are the diagonal.
  Tensor one = Full({n, 1}, 1.0, dtype, device).Pad({{0, 0}, {0, n}});
  return one.Reshape({n * (n + 1)}).Shrink({{0, n * n}}).Reshape({n, n});
}

Tensor Tensor::Rand(const Shape& shape, Rng& rng, DType dtype, const std::string& device) {
  std::vector<float> v(static_cast<size_t>(Product(shape)));
  for (float& x : v) x = rng.Uniform();
  return FromVector(v, shape, dtype, device);
}

Tensor Tensor::Randn(const Shape& shape, Rng& rng, DType dtype, const std::string& device) {
  std::vector<float> v(static_cast<size_t>(Product(shape)));
  for (float& x : v) x = rng.Normal();
  return FromVector(v, shape, dtype, device);
}

Tensor Tensor::Rand(const Shape& shape, uint64_t seed, DType dtype) {
  Rng rng(seed);
  return Rand(shape, rng, dtype);
}

Tensor Tensor::Randn(const Shape& shape, uint64_t seed, DType dtype) {
  Rng rng(seed);
  return Randn(shape, rng, dtype);
}

// A realized tensor is rebuilt as (buffer node + its views) so the graph behind it can be freed.
static NodeRef Rebase(const NodeRef& n) {
  if (n->op == Op::kBuffer) return n;
  // Anything realized itself (a base, or a materialized view of a constant) is its buffer.
  if (std::shared_ptr<Buffer> b = n->realized()) return MakeBufferNode(b, n->device, n->shape);
  if (!IsMovement(n->op)) return n;
  NodeRef src = Rebase(n->srcs[0]);
  if (src == n->srcs[0]) return n;
  return MakeNode(n->op, n->dtype, n->shape, n->device, {src}, n->arg);
}

NodeRef RealizeRootOf(const NodeRef& n) {
  const Node* base = Base(n.get());
  if (base->op == Op::kConst) return n;  // a view of a constant is materialized as a whole
  if (base == n.get()) return n;
  NodeRef b = n;
  while (IsMovement(b->op)) b = b->srcs[0];
  return b;
}

Status RealizeAll(std::vector<Tensor*> tensors) {
  std::vector<NodeRef> roots;
  for (Tensor* t : tensors) {
    if (!t->ok()) return t->status();
    roots.push_back(RealizeRootOf(t->node()));
  }
  PB_RETURN_IF_ERROR(Realize(roots));
  // Realized tensors drop the graph behind them (so it can be freed), unless gradients
  // still have to flow through it.
  for (Tensor* t : tensors)
    if (!DependsOnGradLeaf(t->node().get())) t->node_ = Rebase(t->node());
  return Status::Ok();
}

Status Tensor::Realize() { return RealizeAll({this}); }

Tensor Tensor::Contiguous() const {
  if (!ok()) return *this;
  return MakeOp(Op::kContiguous, dtype(), shape(), device(), {node_});
}

Tensor Tensor::To(const std::string& device) const {
  if (!ok()) return *this;
  auto dev = ResolveDevice(device);
  if (!dev.ok()) return Error(dev.status());
  if (*dev == this->device()) return *this;
  return MakeOp(Op::kCopy, dtype(), shape(), *dev, {node_});
}

Tensor Tensor::Assign(const Tensor& value) {
  if (Status s = FirstError({this, &value}); !s.ok()) return Error(s);
  if (value.shape() != shape()) {
    return Error(InvalidArgument("assign: value shape " + ShapeToString(value.shape()) + " differs from target " +
                                 ShapeToString(shape())));
  }
  if (value.device() != device()) {
    return Error(InvalidArgument("assign: value on " + value.device() + " but target on " + device()));
  }
  if (graph::AssignCapture* capture = graph::AssignCapture::Active()) {  // graph capture: record, do not write
    if (node_->op != Op::kBuffer) return Error(InvalidArgument("assign: target must be a tensor with its own buffer, not a view"));
    capture->Record(node_, (value.dtype() == dtype() ? value : value.Cast(dtype())).node_);
    return *this;
  }
  if (Status s = Realize(); !s.ok()) return Error(s);
  if (node_->op != Op::kBuffer) {
    return Error(InvalidArgument("assign: target must be a tensor with its own buffer, not a view"));
  }
  Tensor v = value.dtype() == dtype() ? value : value.Cast(dtype());
  Tensor a = MakeOp(Op::kAssign, dtype(), shape(), device(), {node_, v.node_});
  if (Status s = a.Realize(); !s.ok()) return Error(s);
  node_ = MakeBufferNode(node_->buffer(), device(), shape());  // the buffer's new version
  return *this;
}

StatusOr<std::vector<double>> Tensor::ToDoubles() const {
  if (!ok()) return status();
  std::shared_ptr<Buffer> b = node_->buffer();  // a buffer, or a node computed already
  if (!b) {
    // A tensor whose only views are DETACH reads its base's buffer as it is; any other view
    // (or a constant) is copied into a contiguous buffer first.
    const Node* n = node_.get();
    while (n->op == Op::kDetach) n = n->srcs[0].get();
    NodeRef root = node_;
    if (IsMovement(n->op) || n->op == Op::kConst) root = MakeNode(Op::kContiguous, dtype(), shape(), device(), {node_});
    PB_RETURN_IF_ERROR(petabox::Realize({RealizeRootOf(root)}));
    b = Base(root.get())->buffer();
    if (!b) return Internal("tensor was not realized: " + GraphToString(root));
  }
  std::vector<uint8_t> raw(b->bytes());
  PB_RETURN_IF_ERROR(b->CopyOut(raw.data(), raw.size()));
  std::vector<double> out(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) out[i] = ReadElement(raw.data(), dtype(), i);
  return out;
}

StatusOr<std::vector<float>> Tensor::ToFloats() const {
  PB_ASSIGN_OR_RETURN(std::vector<double> d, ToDoubles());
  return std::vector<float>(d.begin(), d.end());
}

StatusOr<double> Tensor::Item() const {
  if (ok() && numel() != 1) return InvalidArgument("Item: tensor of shape " + ShapeToString(shape()) + " has " +
                                                   std::to_string(numel()) + " elements, not 1");
  PB_ASSIGN_OR_RETURN(std::vector<double> d, ToDoubles());
  return d[0];
}

}  // namespace petabox
