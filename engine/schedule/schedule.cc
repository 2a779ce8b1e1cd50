#include "engine/schedule/schedule.h"

#include "engine/multi_peer.h"
#include "engine/schedule/concat.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace petabox {
namespace {

using Chain = std::vector<const Node*>;  // movement nodes above a node, innermost first

ShapeTracker ApplyMovement(const ShapeTracker& st, const Node* m) {
  switch (m->op) {
    case Op::kReshape: return st.Reshape(m->Arg<Shape>());
    case Op::kPermute: return st.Permute(m->Arg<std::vector<int>>());
    case Op::kExpand: return st.Expand(m->Arg<Shape>());
    case Op::kPad: return st.Pad(m->Arg<std::vector<Range>>());
    case Op::kShrink: return st.Shrink(m->Arg<std::vector<Range>>());
    case Op::kFlip: {
      std::vector<bool> axes(m->shape.size(), false);
      for (int a : m->Arg<std::vector<int>>()) axes[a] = true;
      return st.Flip(axes);
    }
    default: return st;
  }
}

bool ChainHas(const Chain& chain, Op op) {
  for (const Node* m : chain)
    if (m->op == op) return true;
  return false;
}

bool IsConstSubtree(const Node* n) {
  if (n->op == Op::kConst) return true;
  if (!IsElementwise(n->op) && !IsMovement(n->op)) return false;
  for (const NodeRef& s : n->srcs)
    if (!IsConstSubtree(s.get())) return false;
  return true;
}

class Scheduler {
 public:
  explicit Scheduler(const std::vector<NodeRef>& roots) {
    for (const NodeRef& r : roots) CountConsumers(r.get());
  }
  // FailedPrecondition when the graph reads a buffer that was overwritten in place after the
  // graph was built (it would see the new contents, not the ones it was built on).
  const Status& stale() const { return stale_; }

  Status Schedule(const NodeRef& n);
  std::vector<ScheduleItem> TakeItems() { return std::move(items_); }

  bool IsAvailable(const Node* n) const {
    return n->op == Op::kBuffer || n->realized() != nullptr || done_.count(n);
  }
  // Users of n's value, looking through movement ops (a view shared by two users counts twice).
  int Consumers(const Node* n) const {
    auto it = consumers_.find(n);
    if (it == consumers_.end()) return 0;
    int count = 0;
    for (const Node* c : it->second) count += IsMovement(c->op) ? Consumers(c) : 1;
    return count;
  }

 private:
  void CountConsumers(const Node* n) {
    if (!visited_.insert(n).second) return;
    if (n->op == Op::kBuffer && n->Arg<BufferArg>().version != n->buffer()->version() && stale_.ok()) {
      stale_ = FailedPrecondition("a tensor of shape " + ShapeToString(n->shape) +
                                  " was overwritten in place (assign) after this graph was built on it; "
                                  "realize the graph before the update, or rebuild it");
    }
    if (IsAvailable(n)) return;
    for (const NodeRef& s : n->srcs) {
      consumers_[s.get()].push_back(n);
      CountConsumers(s.get());
    }
  }
  Status ScheduleKernel(const NodeRef& root);
  Status ScheduleCopy(const NodeRef& n);
  StatusOr<std::pair<NodeRef, int64_t>> CopySource(const NodeRef& src);
  // A copy that goes straight into a concatenation's buffer: nothing else reads it.
  bool CopiedIntoConcat(const Node* v) const { return v->op == Op::kCopy && !IsAvailable(v) && Consumers(v) == 1; }
  std::vector<ConcatPart> InPlaceConcat(const NodeRef& n) const;
  Status ScheduleConcat(const NodeRef& n, const std::vector<ConcatPart>& parts);

  std::unordered_map<const Node*, std::vector<const Node*>> consumers_;
  Status stale_;
  std::unordered_set<const Node*> visited_;
  std::unordered_set<const Node*> done_;
  std::vector<ScheduleItem> items_;
};

// Builds one kernel's AST from its root node. Nodes that must be computed by an earlier
// kernel are collected in deps() and read as buffers.
class KernelBuilder {
 public:
  KernelBuilder(const NodeRef& root, const Scheduler& sched) : root_(root), sched_(sched) {}

  std::shared_ptr<KernelAst> Build();
  const std::vector<NodeRef>& deps() const { return deps_; }
  const std::vector<NodeRef>& inputs() const { return inputs_; }

 private:
  enum class Region { kPost, kPre };

  const Node* FindReduce();
  void CollectReduces(const Node* n, bool fusable, std::set<std::pair<const Node*, bool>>& seen,
                      std::map<const Node*, bool>& reduces);
  KRef Lower(const Node* n, const Chain& chain, Region region);
  KRef LowerUncached(const Node* n, const Chain& chain, Region region);
  KRef Leaf(const Node* n, const Chain& chain, Region region);
  KRef LowerPeerRead(const Node* copy, const Chain& chain, Region region);
  bool MustRealize(const Node* n, const Chain& chain, Region region) const;
  bool ReadsInPlace(const Node* copy, const Chain& chain) const;
  ShapeTracker Finalize(ShapeTracker st, Region region) const;
  int InputIndex(const Node* n);

  NodeRef root_;
  const Scheduler& sched_;
  const Node* reduce_ = nullptr;
  const Node* start_ = nullptr;  // the node whose value the kernel stores
  Shape full_shape_, out_shape_;
  std::vector<NodeRef> deps_, inputs_;
  std::map<std::string, KRef> memo_;
};

const Node* KernelBuilder::FindReduce() {
  std::set<std::pair<const Node*, bool>> seen;
  std::map<const Node*, bool> reduces;  // reduce -> every path to it is fusable
  const Node* start = root_->op == Op::kContiguous || root_->op == Op::kAssign ? root_->srcs.back().get() : root_.get();
  start_ = start;
  CollectReduces(start, true, seen, reduces);
  for (auto& [r, fusable] : reduces) {
    bool is_start = r == start;
    if (fusable && (is_start || sched_.Consumers(r) == 1)) return r;
  }
  return nullptr;
}

void KernelBuilder::CollectReduces(const Node* n, bool fusable, std::set<std::pair<const Node*, bool>>& seen,
                                   std::map<const Node*, bool>& reduces) {
  if (!seen.insert({n, fusable}).second || sched_.IsAvailable(n)) return;
  if (IsReduce(n->op)) {
    auto [it, fresh] = reduces.emplace(n, fusable);
    if (!fresh) it->second = it->second && fusable;
    return;
  }
  if (!IsElementwise(n->op) && !IsMovement(n->op)) return;
  bool next = fusable && (!IsMovement(n->op) || n->op == Op::kReshape || n->op == Op::kDetach);
  // A node that other kernels also compute would recompute the reduce in each of them.
  if (n != start_ && IsElementwise(n->op) && sched_.Consumers(n) > 1) next = false;
  for (const NodeRef& s : n->srcs) CollectReduces(s.get(), next, seen, reduces);
}

int KernelBuilder::InputIndex(const Node* n) {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].get() == n) return static_cast<int>(i) + 1;
  // An aliasing pointer: n is reachable from root_, so root_ keeps it alive.
  inputs_.push_back(std::shared_ptr<const Node>(root_, n));  // aliasing ctor: keeps root_ alive
  return static_cast<int>(inputs_.size());
}

ShapeTracker KernelBuilder::Finalize(ShapeTracker st, Region region) const {
  if (reduce_ && region == Region::kPost) return st.Reshape(out_shape_).Expand(full_shape_);
  return st;
}

bool KernelBuilder::MustRealize(const Node* n, const Chain& chain, Region region) const {
  if (IsReduce(n->op)) return !(n == reduce_ && region == Region::kPost);
  if (IsElementwise(n->op)) {
    if (Info(n->op).unsafe_pad && ChainHas(chain, Op::kPad)) return true;
    return ChainHas(chain, Op::kExpand) && !IsConstSubtree(n);
  }
  return n->op == Op::kCopy || n->op == Op::kContiguous || n->op == Op::kAssign || n->op == Op::kEmpty;
}

KRef KernelBuilder::Leaf(const Node* n, const Chain& chain, Region region) {
  ShapeTracker st = ShapeTracker::FromShape(n->shape);
  for (const Node* m : chain) st = ApplyMovement(st, m);
  auto k = std::make_shared<KNode>();
  k->dtype = n->dtype;
  k->st = Finalize(st, region);
  if (n->op == Op::kConst) {
    k->kind = KKind::kConst;
    k->value = n->Arg<double>();
  } else {
    k->kind = KKind::kLoad;
    k->buf = InputIndex(n);
  }
  return k;
}

// A COPY into this kernel's device is read where its source lives (one load per element
// over the peer link, no copy op) when the devices allow it and the kernel reads each
// element once, unmasked: no reduce in the kernel and no expand on the way to the copy
// (either would read remote memory many times), and no pad (masked remote loads, as in a
// concatenation, ran at half the link's speed on H200s; a copy engine does better).
bool KernelBuilder::ReadsInPlace(const Node* copy, const Chain& chain) const {
  return copy->op == Op::kCopy && !reduce_ && !ChainHas(chain, Op::kExpand) && !ChainHas(chain, Op::kPad) &&
         KernelsCanRead(copy->device, copy->srcs[0]->device);
}

// The source of a copy read in place: a load of its base's buffer on the other device
// through the views in between (the base is computed by an earlier kernel there).
KRef KernelBuilder::LowerPeerRead(const Node* copy, const Chain& chain, Region region) {
  Chain c = chain;
  const Node* s = copy->srcs[0].get();
  for (; IsMovement(s->op); s = s->srcs[0].get()) c.insert(c.begin(), s);
  if (s->op != Op::kConst && !sched_.IsAvailable(s)) {
    bool known = false;
    for (const NodeRef& d : deps_) known |= d.get() == s;
    if (!known) deps_.push_back(std::shared_ptr<const Node>(root_, s));
  }
  return Leaf(s, c, region);
}

KRef KernelBuilder::Lower(const Node* n, const Chain& chain, Region region) {
  std::string key = std::to_string(reinterpret_cast<uintptr_t>(n)) + (region == Region::kPre ? "p" : "o");
  for (const Node* m : chain) key += "," + std::to_string(reinterpret_cast<uintptr_t>(m));
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  KRef k = LowerUncached(n, chain, region);
  memo_[key] = k;
  return k;
}

KRef KernelBuilder::LowerUncached(const Node* n, const Chain& chain, Region region) {
  if (n->op == Op::kConst || sched_.IsAvailable(n)) return Leaf(n, chain, region);
  if (IsMovement(n->op)) {
    Chain c{n};
    c.insert(c.end(), chain.begin(), chain.end());
    return Lower(n->srcs[0].get(), c, region);
  }
  if (ReadsInPlace(n, chain)) return LowerPeerRead(n, chain, region);
  if (MustRealize(n, chain, region)) {
    bool known = false;
    for (const NodeRef& d : deps_) known |= d.get() == n;
    if (!known) deps_.push_back(std::shared_ptr<const Node>(root_, n));
    return Leaf(n, chain, region);
  }
  auto k = std::make_shared<KNode>();
  k->dtype = n->dtype;
  k->op = n->op;
  if (IsReduce(n->op)) {
    k->kind = KKind::kReduce;
    k->srcs.push_back(Lower(n->srcs[0].get(), {}, Region::kPre));
    return k;
  }
  k->kind = KKind::kAlu;
  for (const NodeRef& s : n->srcs) k->srcs.push_back(Lower(s.get(), chain, region));
  return k;
}

std::shared_ptr<KernelAst> KernelBuilder::Build() {
  reduce_ = FindReduce();
  const Node* value = root_.get();
  if (root_->op == Op::kContiguous || root_->op == Op::kAssign) value = root_->srcs.back().get();
  out_shape_ = value->shape;
  if (reduce_) {
    full_shape_ = reduce_->srcs[0]->shape;
    out_shape_ = reduce_->shape;
  } else {
    full_shape_ = out_shape_;
  }
  auto ast = std::make_shared<KernelAst>();
  ast->full_shape = full_shape_;
  ast->reduce_axes.assign(full_shape_.size(), false);
  for (size_t i = 0; i < full_shape_.size(); ++i) ast->reduce_axes[i] = full_shape_[i] != out_shape_[i];
  if (reduce_)
    for (int a : reduce_->Arg<std::vector<int>>()) ast->reduce_axes[a] = true;
  ast->root = Lower(value, {}, Region::kPost);
  ast->out_st = ShapeTracker::FromShape(out_shape_).Expand(full_shape_);
  ast->device = root_->device;
  ast->buf_dtypes.push_back(root_->dtype);
  for (const NodeRef& in : inputs_) ast->buf_dtypes.push_back(in->dtype);
  return ast;
}

// True when the kernel reads the assign target through a view other than the one it
// writes: writing in place would then clobber values still to be read.
bool AssignHazard(const KernelAst& ast, const KRef& k, int target_buf) {
  if (k->kind == KKind::kLoad && k->buf == target_buf && !(k->st == ast.out_st)) return true;
  for (const KRef& s : k->srcs)
    if (AssignHazard(ast, s, target_buf)) return true;
  return false;
}

Status Scheduler::ScheduleKernel(const NodeRef& root) {
  KernelBuilder builder(root, *this);
  std::shared_ptr<KernelAst> ast = builder.Build();
  for (const NodeRef& dep : builder.deps()) PB_RETURN_IF_ERROR(Schedule(dep));
  ScheduleItem item;
  item.output = root;
  item.inputs = builder.inputs();
  if (root->op == Op::kAssign) {
    item.assign_target = root->srcs[0];
    for (size_t i = 0; i < item.inputs.size(); ++i) {
      if (item.inputs[i].get() == root->srcs[0].get() && AssignHazard(*ast, ast->root, static_cast<int>(i) + 1)) {
        // Compute the value into a temporary first, then copy it in place.
        NodeRef tmp = MakeNode(Op::kContiguous, root->srcs[1]->dtype, root->srcs[1]->shape, root->device, {root->srcs[1]});
        PB_RETURN_IF_ERROR(Schedule(tmp));
        NodeRef safe = MakeNode(Op::kAssign, root->dtype, root->shape, root->device, {root->srcs[0], tmp});
        KernelBuilder b2(safe, *this);
        ast = b2.Build();
        item.inputs = b2.inputs();
        break;
      }
    }
  }
  item.ast = ast;
  items_.push_back(std::move(item));
  done_.insert(root.get());
  return Status::Ok();
}

// When `view` (a chain of movement ops) reads one contiguous range of its base's buffer, in
// order: the base (a node that gets a buffer) and the range's first element. Else null.
std::pair<NodeRef, int64_t> ContiguousRange(const NodeRef& view) {
  NodeRef base = view;
  while (IsMovement(base->op)) base = base->srcs[0];
  if (base->op == Op::kConst) return {nullptr, 0};
  ShapeTracker st = ViewFromBase(view.get());
  if (st.views().size() != 1) return {nullptr, 0};
  const View& v = st.views()[0];
  if (v.HasMask() || v.strides != ContiguousStrides(v.shape)) return {nullptr, 0};
  return {base, v.offset};
}

// What a copy of `src` reads, scheduled: a plain slice of a buffer is copied from an offset
// (the buffer's node and the slice's first element); any other view is made contiguous first.
StatusOr<std::pair<NodeRef, int64_t>> Scheduler::CopySource(const NodeRef& src) {
  NodeRef from = src;
  int64_t offset = 0;
  if (IsMovement(src->op) || src->op == Op::kConst) {
    auto [base, first] = ContiguousRange(src);
    if (base) {
      from = base;
      offset = first;
    } else {
      from = MakeNode(Op::kContiguous, src->dtype, src->shape, src->device, {src});
    }
  }
  PB_RETURN_IF_ERROR(Schedule(from));
  return std::make_pair(from, offset);
}

Status Scheduler::ScheduleCopy(const NodeRef& n) {
  PB_ASSIGN_OR_RETURN(auto source, CopySource(n->srcs[0]));
  ScheduleItem item;
  item.kind = ScheduleItem::Kind::kCopy;
  item.output = n;
  item.inputs = {source.first};
  item.copy_offset = source.second;
  items_.push_back(std::move(item));
  done_.insert(n.get());
  return Status::Ok();
}

// The parts of n when n is a concatenation worth writing in place: at least one part is a
// copy from another device that nothing else reads (it then goes straight into the result),
// and every other part is such a copy or a contiguous range of a node that has a buffer
// anyway (copied within the device). A concatenation of values computed here stays one
// kernel, which computes the parts as it writes them.
std::vector<ConcatPart> Scheduler::InPlaceConcat(const NodeRef& n) const {
  const Node* value = n->op == Op::kContiguous ? n->srcs[0].get() : n.get();
  if (value != n.get() && IsAvailable(value)) return {};
  std::vector<ConcatPart> parts =
      ConcatParts(value, [this](const Node* add) { return !IsAvailable(add) && Consumers(add) == 1; });
  bool remote = false;
  for (const ConcatPart& p : parts) {
    const Node* v = p.value;
    if (CopiedIntoConcat(v)) {
      remote |= v->srcs[0]->device != n->device;
      continue;
    }
    auto [base, first] = ContiguousRange(std::shared_ptr<const Node>(n, v));
    if (!base || !(IsAvailable(base.get()) || base->op == Op::kCopy || base->op == Op::kContiguous)) return {};
  }
  return remote ? parts : std::vector<ConcatPart>{};
}

Status Scheduler::ScheduleConcat(const NodeRef& n, const std::vector<ConcatPart>& parts) {
  std::vector<ScheduleItem> copies;
  for (const ConcatPart& p : parts) {
    NodeRef v(n, p.value);  // aliasing: n keeps its parts alive
    PB_ASSIGN_OR_RETURN(auto source, CopySource(CopiedIntoConcat(v.get()) ? v->srcs[0] : v));
    ScheduleItem item;
    item.kind = ScheduleItem::Kind::kCopy;
    item.output = n;
    item.inputs = {source.first};
    item.copy_offset = source.second;
    item.into_output = true;
    item.dst_offset = p.offset;
    item.count = v->numel();
    copies.push_back(std::move(item));
  }
  ScheduleItem empty;
  empty.kind = ScheduleItem::Kind::kEmpty;
  empty.output = n;
  items_.push_back(std::move(empty));
  for (ScheduleItem& c : copies) items_.push_back(std::move(c));
  done_.insert(n.get());
  return Status::Ok();
}

Status Scheduler::Schedule(const NodeRef& n) {
  if (IsAvailable(n.get())) return Status::Ok();
  switch (n->op) {
    case Op::kEmpty: {
      ScheduleItem item;
      item.kind = ScheduleItem::Kind::kEmpty;
      item.output = n;
      items_.push_back(std::move(item));
      done_.insert(n.get());
      return Status::Ok();
    }
    case Op::kCopy: return ScheduleCopy(n);
    case Op::kAssign:
      if (!IsAvailable(Base(n->srcs[0].get())) || IsMovement(n->srcs[0]->op))
        return InvalidArgument("assign target must be a realized tensor without a view");
      return ScheduleKernel(n);
    case Op::kBuffer: return Status::Ok();
    default:
      if (std::vector<ConcatPart> parts = InPlaceConcat(n); !parts.empty()) return ScheduleConcat(n, parts);
      return ScheduleKernel(n);
  }
}

}  // namespace

ShapeTracker ViewFromBase(const Node* n) {
  std::vector<const Node*> chain;
  for (; IsMovement(n->op); n = n->srcs[0].get()) chain.push_back(n);
  ShapeTracker st = ShapeTracker::FromShape(n->shape);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) st = ApplyMovement(st, *it);
  return st;
}

StatusOr<std::vector<ScheduleItem>> CreateSchedule(const std::vector<NodeRef>& roots) {
  Scheduler sched(roots);
  PB_RETURN_IF_ERROR(sched.stale());
  for (const NodeRef& r : roots) PB_RETURN_IF_ERROR(sched.Schedule(r));
  return sched.TakeItems();
}

}  // namespace petabox
