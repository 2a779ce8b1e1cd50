// Autograd: the backward rule of every primitive (one table, below), reverse-mode
// accumulation over the lazy graph, and the Tensor methods that use them.
#include "engine/autograd.h"

#include <cmath>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "engine/realize.h"
#include "engine/tensor_internal.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

struct Tensor::GradState {
  bool requires_grad = true;
  Tensor grad;    // accumulated gradient (lazy); uninitialized until Backward reaches the leaf
  std::shared_ptr<Buffer> buffer;  // the leaf's memory: alive as long as the state, so its address stays unique
};

namespace {

constexpr double kLn2 = 0.6931471805599453;
using Grads = std::vector<Tensor>;  // one per source; an uninitialized Tensor = no gradient

Tensor T(const NodeRef& n) { return Tensor(n); }
Tensor Zeros(const Tensor& like) { return Tensor::Zeros(like.shape(), like.dtype(), like.device()); }
bool Differentiable(const NodeRef& n) { return IsFloat(n->dtype); }

Grads MaxGrad(const Node& n, const Tensor& g) {
  Tensor a = T(n.srcs[0]), b = T(n.srcs[1]);
  Tensor half = g.Mul(0.5);
  return {Tensor::Where(a.Gt(b), g, Tensor::Where(a.Eq(b), half, Zeros(g))),
          Tensor::Where(b.Gt(a), g, Tensor::Where(a.Eq(b), half, Zeros(g)))};
}

Grads ReduceMaxGrad(const Node& n, const Tensor& g, const NodeRef& self) {
  Tensor x = T(n.srcs[0]), m = T(self);
  // 16-bit floats are computed in float32 inside a kernel and rounded where stored, so an
  // input recomputed in the backward kernel may not equal the stored (rounded) maximum:
  // compare both as stored (rounding is monotonic, so the rounded maximum is the maximum of
  // the rounded inputs).
  if (IsFloat(x.dtype()) && ItemSize(x.dtype()) == 2) {
    x = x.Contiguous();
    m = m.Contiguous();
  }
  // Ties share the gradient equally.
  Tensor is_max = x.Eq(m.Expand(x.shape())).Cast(x.dtype());
  Tensor count = is_max.Sum(n.Arg<std::vector<int>>(), true).Expand(x.shape());
  return {is_max.Div(count).Mul(g.Expand(x.shape()))};
}

Grads ExpandGrad(const Node& n, const Tensor& g) {
  std::vector<int> axes;
  const Shape& in = n.srcs[0]->shape;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != n.shape[i]) axes.push_back(static_cast<int>(i));
  return {axes.empty() ? g : g.Sum(axes, true)};
}

Grads PermuteGrad(const Node& n, const Tensor& g) {
  const auto& order = n.Arg<std::vector<int>>();
  std::vector<int> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  return {g.Permute(inverse)};
}

Grads PadGrad(const Node& n, const Tensor& g) {
  std::vector<Range> keep;
  const auto& pads = n.Arg<std::vector<Range>>();
  for (size_t i = 0; i < pads.size(); ++i) keep.push_back({pads[i].first, pads[i].first + n.srcs[0]->shape[i]});
  return {g.Shrink(keep)};
}

Grads ShrinkGrad(const Node& n, const Tensor& g) {
  std::vector<Range> pads;
  const auto& r = n.Arg<std::vector<Range>>();
  for (size_t i = 0; i < r.size(); ++i) pads.push_back({r[i].first, n.srcs[0]->shape[i] - r[i].second});
  return {g.Pad(pads)};
}

// The backward rule of each primitive: gradients of its sources given the output gradient.
Grads Backward(const NodeRef& self, const Tensor& g) {
  const Node& n = *self;
  auto src = [&](int i) { return T(n.srcs[i]); };
  switch (n.op) {
    case Op::kExp2: return {g.Mul(T(self)).Mul(kLn2)};
    case Op::kLog2: return {g.Div(src(0).Mul(kLn2))};
    case Op::kSin: return {g.Mul(src(0).Cos())};
    case Op::kSqrt: return {g.Mul(0.5).Div(T(self))};
    case Op::kRecip: return {g.Neg().Mul(T(self)).Mul(T(self))};
    case Op::kNeg: return {g.Neg()};
    case Op::kCast: return {Differentiable(n.srcs[0]) ? g.Cast(n.srcs[0]->dtype) : Tensor()};
    case Op::kAdd: return {g, g};
    case Op::kMul: return {g.Mul(src(1)), g.Mul(src(0))};
    case Op::kMax: return MaxGrad(n, g);
    case Op::kWhere: {
      Tensor c = src(0), zero = Zeros(g);
      return {Tensor(), Tensor::Where(c, g, zero), Tensor::Where(c, zero, g)};
    }
    case Op::kReduceSum: return {g.Expand(n.srcs[0]->shape)};
    case Op::kReduceMax: return ReduceMaxGrad(n, g, self);
    case Op::kReshape: return {g.Reshape(n.srcs[0]->shape)};
    case Op::kPermute: return PermuteGrad(n, g);
    case Op::kExpand: return ExpandGrad(n, g);
    case Op::kPad: return PadGrad(n, g);
    case Op::kShrink: return ShrinkGrad(n, g);
    case Op::kFlip: return {g.Flip(n.Arg<std::vector<int>>())};
    case Op::kContiguous: return {g};
    case Op::kCopy: return {g.To(n.srcs[0]->device)};
    // No gradient: integer/boolean ops, comparisons, DETACH, and the buffer ops.
    default: return Grads(n.srcs.size());
  }
}

// Nodes between y and the targets, sources before users.
std::vector<const Node*> TopoOrder(const Node* y, const std::unordered_set<const Node*>& targets) {
  std::unordered_map<const Node*, bool> reaches;
  std::vector<const Node*> order;
  std::function<bool(const Node*)> visit = [&](const Node* n) -> bool {
    if (auto it = reaches.find(n); it != reaches.end()) return it->second;
    bool r = targets.count(n) > 0;
    if (n->op != Op::kDetach)
      for (const NodeRef& s : n->srcs) r = visit(s.get()) || r;
    reaches[n] = r;
    if (r) order.push_back(n);
    return r;
  };
  visit(y);
  return order;
}

class LeafRegistry {
 public:
  void Add(const Buffer* n, std::weak_ptr<Tensor::GradState> s) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (leaves_.size() > 1024) Sweep();
    leaves_[n] = std::move(s);
  }
  std::shared_ptr<Tensor::GradState> Find(const Buffer* n) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = leaves_.find(n);
    return it == leaves_.end() ? nullptr : it->second.lock();
  }

 private:
  void Sweep() REQUIRES(mu_) {
    for (auto it = leaves_.begin(); it != leaves_.end();) it = it->second.expired() ? leaves_.erase(it) : std::next(it);
  }
  Mutex mu_;
  std::unordered_map<const Buffer*, std::weak_ptr<Tensor::GradState>> leaves_ GUARDED_BY(mu_);

};

// Which buffers are leaves that require grad: process-wide, like the tensors themselves.
// Keyed by buffer, not node: an in-place update gives the leaf a new node (new version).
LeafRegistry& Leaves() {
  static LeafRegistry* registry = new LeafRegistry();
  return *registry;
}

thread_local bool no_grad_active = false;

}  // namespace

StatusOr<std::vector<Tensor>> Gradients(const Tensor& y, const std::vector<Tensor>& wrt, const Tensor& seed) {
  if (!y.ok()) return y.status();
  std::unordered_set<const Node*> targets;
  for (const Tensor& x : wrt) {
    if (!x.ok()) return x.status();
    targets.insert(x.node().get());
  }
  Tensor s = seed.node() ? seed : Tensor::Ones(y.shape(), y.dtype(), y.device());
  if (!s.ok()) return s.status();
  if (s.shape() != y.shape())
    return InvalidArgument("gradients: seed shape " + ShapeToString(s.shape()) + " differs from " + ShapeToString(y.shape()));
  std::unordered_map<const Node*, Tensor> grads{{y.node().get(), s}};
  std::vector<const Node*> order = TopoOrder(y.node().get(), targets);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node* n = *it;
    auto g = grads.find(n);
    if (g == grads.end() || n->srcs.empty()) continue;
    NodeRef self(y.node(), n);  // aliasing: y keeps n alive
    Grads src_grads = Backward(self, g->second);
    for (size_t i = 0; i < n->srcs.size(); ++i) {
      if (!src_grads[i].node() || !Differentiable(n->srcs[i])) continue;
      if (!src_grads[i].ok()) return src_grads[i].status();
      auto [slot, fresh] = grads.emplace(n->srcs[i].get(), src_grads[i]);
      if (!fresh) slot->second = slot->second.Add(src_grads[i]);
    }
  }
  std::vector<Tensor> out;
  for (const Tensor& x : wrt) {
    auto g = grads.find(x.node().get());
    out.push_back(g == grads.end() ? Zeros(x) : g->second);
  }
  return out;
}

bool DependsOnGradLeaf(const Node* root) {
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack{root};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second || n->op == Op::kDetach) continue;
    if (n->op == Op::kBuffer) {
      if (auto st = Leaves().Find(n->buffer().get()); st && st->requires_grad) return true;
      continue;
    }
    for (const NodeRef& s : n->srcs) stack.push_back(s.get());
  }
  return false;
}

NoGradGuard::NoGradGuard() : previous_(no_grad_active) { no_grad_active = true; }
NoGradGuard::~NoGradGuard() { no_grad_active = previous_; }
bool NoGradGuard::Active() { return no_grad_active; }

Tensor Tensor::Detach() const {
  if (!ok()) return *this;
  return Tensor(MakeNode(Op::kDetach, dtype(), shape(), device(), {node_}));
}

Tensor& Tensor::RequiresGrad(bool enabled) {
  if (!ok()) return *this;
  if (enabled && !IsFloat(dtype())) {
    *this = Error(InvalidArgument(std::string("requires_grad: only float tensors have gradients, not ") + Name(dtype())));
    return *this;
  }
  if (!grad_state_) {
    if (node_->op != Op::kBuffer) {  // a leaf owns a buffer of its own, cut from any graph
      NodeRef c = MakeNode(Op::kContiguous, dtype(), shape(), device(), {node_});
      if (Status s = petabox::Realize({c}); !s.ok()) {
        *this = Error(s);
        return *this;
      }
      node_ = MakeBufferNode(c->buffer(), device(), shape());
    }
    grad_state_ = std::make_shared<GradState>();
    grad_state_->buffer = node_->buffer();
    Leaves().Add(grad_state_->buffer.get(), grad_state_);
  }
  grad_state_->requires_grad = enabled;
  return *this;
}

bool Tensor::requires_grad() const { return grad_state_ && grad_state_->requires_grad; }
Tensor Tensor::grad() const { return grad_state_ ? grad_state_->grad : Tensor(); }
void Tensor::SetGrad(const Tensor& g) {
  if (!grad_state_) RequiresGrad();
  if (grad_state_) grad_state_->grad = g;
}
void Tensor::ZeroGrad() {
  if (grad_state_) grad_state_->grad = Tensor();
}

Status Tensor::Backward() {
  if (!ok()) return status();
  if (numel() != 1) {
    return InvalidArgument("backward: needs a one-element tensor (a loss), got shape " + ShapeToString(shape()));
  }
  std::vector<Tensor> wrt;
  std::vector<std::shared_ptr<GradState>> states;
  std::unordered_set<const Node*> seen;
  std::function<void(const Node*)> collect = [&](const Node* n) {
    if (!seen.insert(n).second || n->op == Op::kDetach) return;
    if (n->op != Op::kBuffer) {
      for (const NodeRef& s : n->srcs) collect(s.get());
      return;
    }
    if (auto st = Leaves().Find(n->buffer().get()); st && st->requires_grad) {
      states.push_back(st);
      wrt.push_back(Tensor(NodeRef(node_, n)));  // aliasing: node_ keeps n alive
    }
  };
  collect(node_.get());
  if (wrt.empty()) return InvalidArgument("backward: the tensor depends on no tensor that requires grad");
  PB_ASSIGN_OR_RETURN(std::vector<Tensor> grads, Gradients(*this, wrt));
  for (size_t i = 0; i < states.size(); ++i) {
    Tensor& acc = states[i]->grad;
    acc = acc.node() ? acc.Add(grads[i]) : grads[i];
  }
  return Status::Ok();
}

}  // namespace petabox
