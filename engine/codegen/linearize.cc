#include "engine/codegen/linearize.h"

#include <cmath>
#include <limits>
#include <map>

namespace petabox {
namespace {

constexpr int64_t kVectorLane = -1;  // code value meaning "the vector lane variable"

class Linearizer {
 public:
  explicit Linearizer(const Kernel& k) : k_(k) {
    out_.name = k.Name();
    out_.buf_dtypes = k.ast().buf_dtypes;
    vaxis_ = k.vector_axis();
    if (vaxis_ >= 0) width_ = static_cast<int>(k.shape()[vaxis_]);
  }
  LinearKernel Run();

 private:
  using Code = std::vector<int64_t>;  // per axis: value of code axes (or kVectorLane)

  int Emit(UOp u, bool pure);
  void Open(UOp loop);
  void Close();
  std::vector<std::vector<int64_t>> Combos(const std::vector<AxisKind>& kinds, bool include_vector) const;
  Code Merge(const std::vector<int64_t>& a, const std::vector<int64_t>& b) const;
  std::vector<sym::ExprRef> AxisExprs(const Code& code) const;
  std::string Key(const Code& code, bool upcast_only) const;
  int Eval(const KNode* k, const Code& code);
  int EvalLoad(const KNode* k, const Code& code);
  int EvalConst(const KNode* k, const Code& code);
  int Gather(const KNode* k, const Code& code);
  bool VectorActive(const Code& code) const { return vaxis_ >= 0 && code[vaxis_] == kVectorLane; }
  int ScalarLoad(int buf, DType dtype, const sym::ExprRef& idx, const sym::ExprRef& valid);
  void OpenGlobalsCpu();
  void OpenGlobalsGpu();
  void CombineGroup(double init);
  int ReduceLanes(int acc, DType dtype);

  const Kernel& k_;
  LinearKernel out_;
  int vaxis_ = -1, width_ = 1;
  std::vector<std::map<std::string, int>> scopes_{1};
  std::map<std::string, int> accs_;
  const KNode* reduce_ = nullptr;
  int64_t trips_ = 1;
  std::vector<int64_t> trip_stack_;
  std::vector<bool> parallel_stack_;
};

int Linearizer::Emit(UOp u, bool pure) {
  std::string key;
  if (pure) {
    key = std::to_string(static_cast<int>(u.kind)) + "|" + std::to_string(static_cast<int>(u.dtype)) + "|" +
          std::to_string(u.vcount) + "|" + std::to_string(static_cast<int>(u.op)) + "|" + u.index + "|" + u.valid +
          "|" + std::to_string(u.buf) + "|" + std::to_string(u.value) + "|" + std::to_string(u.lane);
    for (int s : u.srcs) key += "," + std::to_string(s);
    for (auto& scope : scopes_)
      if (auto it = scope.find(key); it != scope.end()) return it->second;
  }
  if (u.kind == UOpKind::kAlu && u.op != Op::kCast && u.op != Op::kBitcast) out_.flops += trips_ * u.vcount;
  if (u.kind == UOpKind::kAccUpdate) out_.flops += trips_ * u.vcount;
  out_.uops.push_back(std::move(u));
  int id = static_cast<int>(out_.uops.size()) - 1;
  if (pure) scopes_.back()[key] = id;
  return id;
}

void Linearizer::Open(UOp loop) {
  parallel_stack_.push_back(loop.parallel);
  trip_stack_.push_back(trips_);
  trips_ *= loop.end - loop.begin;
  Emit(std::move(loop), false);
  scopes_.emplace_back();
}

void Linearizer::Close() {
  scopes_.pop_back();
  trips_ = trip_stack_.back();
  trip_stack_.pop_back();
  UOp end{UOpKind::kLoopEnd};
  end.parallel = parallel_stack_.back();
  parallel_stack_.pop_back();
  Emit(end, false);
}

std::vector<std::vector<int64_t>> Linearizer::Combos(const std::vector<AxisKind>& kinds, bool include_vector) const {
  std::vector<std::vector<int64_t>> combos{Code(k_.shape().size(), 0)};
  for (size_t a = 0; a < k_.shape().size(); ++a) {
    bool wanted = false;
    for (AxisKind kind : kinds) wanted |= k_.kinds()[a] == kind;
    if (!wanted) continue;
    std::vector<std::vector<int64_t>> next;
    if (static_cast<int>(a) == vaxis_ && !include_vector) {
      for (auto c : combos) { c[a] = kVectorLane; next.push_back(c); }
    } else {
      for (const auto& c : combos)
        for (int64_t v = 0; v < k_.shape()[a]; ++v) { auto d = c; d[a] = v; next.push_back(d); }
    }
    combos = std::move(next);
  }
  return combos;
}

Linearizer::Code Linearizer::Merge(const std::vector<int64_t>& a, const std::vector<int64_t>& b) const {
  Code c(k_.shape().size(), 0);
  for (size_t i = 0; i < c.size(); ++i) {
    AxisKind kind = k_.kinds()[i];
    c[i] = kind == AxisKind::kUnroll ? b[i] : a[i];
  }
  return c;
}

std::vector<sym::ExprRef> Linearizer::AxisExprs(const Code& code) const {
  std::vector<sym::ExprRef> e;
  for (size_t i = 0; i < code.size(); ++i) {
    AxisKind kind = k_.kinds()[i];
    int64_t size = k_.shape()[i];
    if (kind == AxisKind::kGlobal) e.push_back(sym::Var("g" + std::to_string(i), 0, size - 1));
    else if (kind == AxisKind::kReduce) e.push_back(sym::Var("r" + std::to_string(i), 0, size - 1));
    else if (kind == AxisKind::kGroup) e.push_back(sym::Var("l" + std::to_string(i), 0, size - 1));
    else if (code[i] == kVectorLane) e.push_back(sym::Var("v", 0, size - 1));
    else e.push_back(sym::Const(code[i]));
  }
  return e;
}

std::string Linearizer::Key(const Code& code, bool upcast_only) const {
  std::string key;
  for (size_t i = 0; i < code.size(); ++i)
    if (!upcast_only || (k_.kinds()[i] == AxisKind::kUpcast && static_cast<int>(i) != vaxis_)) key += std::to_string(code[i]) + ",";
  return key;
}

int Linearizer::ScalarLoad(int buf, DType dtype, const sym::ExprRef& idx, const sym::ExprRef& valid) {
  if (sym::IsConst(valid, 0)) {
    UOp c{UOpKind::kConst, dtype};
    return Emit(c, true);
  }
  UOp u{UOpKind::kLoad, dtype};
  u.buf = buf;
  u.index = sym::Render(idx);
  u.valid = sym::IsConst(valid, 1) ? "" : sym::Render(valid);
  return Emit(u, true);
}

int Linearizer::Gather(const KNode* k, const Code& code) {
  UOp g{UOpKind::kGather, k->dtype, width_};
  for (int l = 0; l < width_; ++l) {
    Code c = code;
    c[vaxis_] = l;
    g.srcs.push_back(Eval(k, c));
  }
  return Emit(g, true);
}

int Linearizer::EvalLoad(const KNode* k, const Code& code) {
  auto [idx, valid] = k_.ViewOf(k).IndexExpr(AxisExprs(code));
  if (!VectorActive(code)) return ScalarLoad(k->buf, k->dtype, idx, valid);
  std::optional<int64_t> coeff = sym::LinearCoeff(idx, "v");
  if (sym::Uses(valid, "v") || !coeff || (*coeff != 0 && *coeff != 1)) return Gather(k, code);
  if (*coeff == 0) return ScalarLoad(k->buf, k->dtype, idx, valid);
  UOp u{UOpKind::kLoad, k->dtype, width_};
  u.buf = k->buf;
  u.index = sym::Render(sym::Substitute(idx, {{"v", sym::Const(0)}}));
  u.valid = sym::IsConst(valid, 1) ? "" : sym::Render(valid);
  return Emit(u, true);
}

int Linearizer::EvalConst(const KNode* k, const Code& code) {
  auto [idx, valid] = k_.ViewOf(k).IndexExpr(AxisExprs(code));
  if (VectorActive(code) && sym::Uses(valid, "v")) return Gather(k, code);
  UOp c{UOpKind::kConst, k->dtype};
  c.value = sym::IsConst(valid, 0) ? 0.0 : k->value;
  int cid = Emit(c, true);
  if (sym::IsConst(valid, 1) || sym::IsConst(valid, 0)) return cid;
  UOp v{UOpKind::kIndex, DType::kBool};
  v.index = sym::Render(valid);
  UOp zero{UOpKind::kConst, k->dtype};
  UOp w{UOpKind::kAlu, k->dtype};
  w.op = Op::kWhere;
  w.srcs = {Emit(v, true), cid, Emit(zero, true)};
  return Emit(w, true);
}

int Linearizer::Eval(const KNode* k, const Code& code) {
  switch (k->kind) {
    case KKind::kLoad: return EvalLoad(k, code);
    case KKind::kConst: return EvalConst(k, code);
    case KKind::kReduce: {
      int acc = accs_.at(Key(code, true));
      if (out_.uops[acc].vcount == 1) return acc;
      if (k_.kinds()[vaxis_] == AxisKind::kUnroll) return ReduceLanes(acc, k->dtype);
      UOp lane{UOpKind::kLane, k->dtype};
      lane.srcs = {acc};
      lane.lane = static_cast<int>(code[vaxis_]);
      return Emit(lane, true);
    }
    case KKind::kAlu: {
      UOp u{UOpKind::kAlu, k->dtype};
      u.op = k->op;
      for (const KRef& s : k->srcs) {
        u.srcs.push_back(Eval(s.get(), code));
        u.vcount = std::max(u.vcount, out_.uops[u.srcs.back()].vcount);
      }
      return Emit(u, true);
    }
  }
  return -1;
}

// Kernels that loop over chunks (CPU): the first global axis is split over the thread
// pool, the others are loops.
void Linearizer::OpenGlobalsCpu() {
  const Shape& shape = k_.shape();
  bool opened_parallel = false;
  for (size_t a = 0; a < shape.size(); ++a) {
    if (k_.kinds()[a] != AxisKind::kGlobal) continue;
    UOp loop{UOpKind::kLoopBegin};
    loop.var = "g" + std::to_string(a);
    loop.end = shape[a];
    loop.parallel = !opened_parallel;
    if (loop.parallel) out_.dims.global[0] = shape[a];
    opened_parallel = true;
    Open(loop);
  }
  if (!opened_parallel) {
    UOp loop{UOpKind::kLoopBegin};
    loop.var = "g_";
    loop.end = 1;
    loop.parallel = true;
    Open(loop);
  }
}

// GPU: one thread per element of the global space; the last global axis varies fastest
// between neighbouring threads, so their loads and stores coalesce.
void Linearizer::OpenGlobalsGpu() {
  const Shape& shape = k_.shape();
  int64_t total = 1, group = 1;
  for (size_t a = 0; a < shape.size(); ++a) {
    if (k_.kinds()[a] == AxisKind::kGlobal) total *= shape[a];
    if (k_.kinds()[a] == AxisKind::kGroup) group *= shape[a];
  }
  total *= group;
  UOp loop{UOpKind::kLoopBegin};
  loop.var = "gidx";
  loop.end = total;
  loop.parallel = true;
  out_.dims.global[0] = total;
  // A group is one block: its threads share memory (total is a multiple of the group).
  out_.dims.local[0] = group > 1 ? group : std::min<int64_t>(256, total);
  Open(loop);
  sym::ExprRef gidx = sym::Var("gidx", 0, total - 1);
  int64_t inner = 1;
  for (size_t a = shape.size(); a-- > 0;) {
    AxisKind kind = k_.kinds()[a];
    if (kind != AxisKind::kGlobal && kind != AxisKind::kGroup) continue;
    UOp def{UOpKind::kDefine};
    def.var = (kind == AxisKind::kGroup ? "l" : "g") + std::to_string(a);
    def.index = sym::Render(sym::Mod(sym::Div(gidx, inner), shape[a]));
    Emit(def, false);
    inner *= shape[a];
  }
}

// With group axes, each thread holds a partial result: they meet in shared memory and the
// block's first thread combines them (and goes on to the stores alone).
void Linearizer::CombineGroup(double init) {
  int64_t group = 1;
  sym::ExprRef lidx = sym::Const(0);
  for (size_t a = 0; a < k_.shape().size(); ++a) {
    if (k_.kinds()[a] != AxisKind::kGroup) continue;
    lidx = sym::Add(sym::Mul(lidx, k_.shape()[a]), sym::Var("l" + std::to_string(a), 0, k_.shape()[a] - 1));
    group *= k_.shape()[a];
  }
  if (group == 1) return;
  int acc = accs_.at(Key(Code(k_.shape().size(), 0), true));
  DType dtype = out_.uops[acc].dtype;
  UOp shared{UOpKind::kShared, dtype};
  shared.var = "pb_partials";
  shared.end = group;
  Emit(shared, false);
  UOp store{UOpKind::kSharedStore, dtype};
  store.var = shared.var;
  store.index = sym::Render(lidx);
  store.srcs = {acc};
  Emit(store, false);
  Emit(UOp{UOpKind::kBarrier}, false);
  UOp first{UOpKind::kIf};
  first.index = sym::Render(lidx) + " == 0";
  first.end = 1;
  Open(first);
  UOp total{UOpKind::kAccDefine, dtype};
  total.value = init;
  int combined = Emit(total, false);
  UOp loop{UOpKind::kLoopBegin};
  loop.var = "li";
  loop.end = group;
  Open(loop);
  UOp part{UOpKind::kSharedLoad, dtype};
  part.var = shared.var;
  part.index = "li";
  UOp upd{UOpKind::kAccUpdate, dtype};
  upd.op = reduce_->op == Op::kReduceSum ? Op::kAdd : Op::kMax;
  upd.srcs = {combined, Emit(part, false)};
  Emit(upd, false);
  Close();
  accs_[Key(Code(k_.shape().size(), 0), true)] = combined;
}

// The lanes of a vector accumulator over a reduce axis, added up (or maxed) into one value.
int Linearizer::ReduceLanes(int acc, DType dtype) {
  int total = -1;
  for (int l = 0; l < width_; ++l) {
    UOp lane{UOpKind::kLane, dtype};
    lane.srcs = {acc};
    lane.lane = l;
    int v = Emit(lane, true);
    if (total < 0) {
      total = v;
      continue;
    }
    UOp alu{UOpKind::kAlu, dtype};
    alu.op = reduce_->op == Op::kReduceSum ? Op::kAdd : Op::kMax;
    alu.srcs = {total, v};
    total = Emit(alu, true);
  }
  return total;
}

LinearKernel Linearizer::Run() {
  reduce_ = KernelAst::FindReduce(k_.ast().root);
  const Shape& shape = k_.shape();
  if (k_.props().capabilities.loops_over_chunks) OpenGlobalsCpu();
  else OpenGlobalsGpu();
  if (reduce_) {
    double init = reduce_->op == Op::kReduceSum ? 0.0 : -std::numeric_limits<double>::infinity();
    if (!IsFloat(reduce_->dtype) && reduce_->op == Op::kReduceMax)
      init = reduce_->dtype == DType::kInt64 ? -9.2e18 : (reduce_->dtype == DType::kInt32 ? -2147483648.0 : 0.0);
    auto upcasts = Combos({AxisKind::kUpcast}, false);
    for (const auto& u : upcasts) {
      UOp acc{UOpKind::kAccDefine, reduce_->dtype, vaxis_ >= 0 ? width_ : 1};
      acc.value = init;
      accs_[Key(u, true)] = Emit(acc, false);
    }
    for (size_t a = 0; a < shape.size(); ++a) {
      if (k_.kinds()[a] != AxisKind::kReduce) continue;
      UOp loop{UOpKind::kLoopBegin};
      loop.var = "r" + std::to_string(a);
      loop.end = shape[a];
      Open(loop);
    }
    for (const auto& r : Combos({AxisKind::kUnroll}, false)) {
      for (const auto& u : upcasts) {
        int val = Eval(reduce_->srcs[0].get(), Merge(u, r));
        UOp upd{UOpKind::kAccUpdate, reduce_->dtype, out_.uops[accs_[Key(u, true)]].vcount};
        upd.op = reduce_->op == Op::kReduceSum ? Op::kAdd : Op::kMax;
        upd.srcs = {accs_[Key(u, true)], val};
        Emit(upd, false);
      }
    }
    for (size_t a = 0; a < shape.size(); ++a)
      if (k_.kinds()[a] == AxisKind::kReduce) Close();
    CombineGroup(init);
  }
  for (const auto& u : Combos({AxisKind::kUpcast}, true)) {
    UOp st{UOpKind::kStore, k_.ast().buf_dtypes[0]};
    st.srcs = {Eval(k_.ast().root.get(), u)};
    st.buf = 0;
    st.index = sym::Render(k_.ViewOf(nullptr).IndexExpr(AxisExprs(u)).first);
    Emit(st, false);
  }
  while (!trip_stack_.empty()) Close();
  return std::move(out_);
}

}  // namespace

LinearKernel Linearize(const Kernel& kernel) { return Linearizer(kernel).Run(); }

}  // namespace petabox
