#include "engine/codegen/opt/heuristic.h"

#include <functional>
#include <optional>

namespace petabox {
namespace {

// The kernel being laid out and the actions that did it: every change goes through an
// Action, so the result is an action list (what BEAM starts from and caches).
struct Plan {
  Kernel& kernel;
  std::vector<Action> actions;

  // Applies `a` and records it; false (kernel unchanged) when it is not valid.
  bool Do(Action a) {
    if (!ApplyAction(kernel, a).ok()) return false;
    actions.push_back(a);
    return true;
  }
};

constexpr int64_t kMaxUpcastElements = 256;   // register tile size (elements)
constexpr int64_t kMaxExpanded = 1024;        // upcast * unroll: bounds the code size


void ForEachLoad(const KNode* k, const std::function<void(const KNode*)>& fn) {
  if (k->kind == KKind::kLoad) fn(k);
  for (const KRef& s : k->srcs) ForEachLoad(s.get(), fn);
}

// True when some load does not move along `axis` (its values are reused across it). When
// vectorized, only vector loads count: reusing one of those saves the most bytes.
bool HasReuse(const Kernel& kernel, const KNode* body, int axis) {
  int v = kernel.vector_axis();
  bool reuse = false;
  ForEachLoad(body, [&](const KNode* l) {
    bool vector_load = v < 0 || kernel.StrideOf(l, v) == 1;
    reuse |= vector_load && kernel.StrideOf(l, axis) == 0;
  });
  return reuse;
}

int LastAxisOf(const Kernel& kernel, AxisKind kind) {
  for (int i = static_cast<int>(kernel.shape().size()) - 1; i >= 0; --i)
    if (kernel.kinds()[i] == kind) return i;
  return -1;
}

// True when every load along `axis` is contiguous (stride 1) or constant (stride 0), and
// one at least is contiguous: vector loads then need no per-lane gathers.
bool VectorFriendly(const Kernel& kernel, const KNode* body, int axis) {
  bool ok = true, any = false;
  ForEachLoad(body, [&](const KNode* l) {
    std::optional<int64_t> s = kernel.StrideOf(l, axis);
    ok &= s == 0 || s == 1;
    any |= s == 1;
  });
  return ok && any;
}

// The widest vector (at most `width` lanes, at least 4) that divides `size`; 0 if none.
int64_t FitWidth(int64_t size, int64_t width) {
  while (width > 4 && size % width != 0) width /= 2;  // narrower vectors fit more shapes
  return size % width == 0 ? width : 0;
}

// Vectorizes a global axis along which the loads need no gathers; failing that, the
// innermost reduce axis (lanes then hold partial sums, added up after the loop). Returns the
// global axis the vector was split from (-1 otherwise).
int Vectorize(Plan& plan, const KNode* reduce) {
  const Kernel& kernel = plan.kernel;
  int64_t width = kernel.props().vector_bytes / 4;
  if (width < 2 || reduce->op != Op::kReduceSum || !VectorSafe(reduce)) return -1;
  for (int a = static_cast<int>(kernel.shape().size()) - 1; a >= 0; --a) {
    if (kernel.kinds()[a] != AxisKind::kGlobal || !VectorFriendly(kernel, reduce, a)) continue;
    int64_t w = FitWidth(kernel.shape()[a], width);
    if (w == 0) continue;
    if (!plan.Do({ActionKind::kVectorize, a, w})) continue;
    // More vectors along the same axis: a wider tile reuses the other operand.
    if (kernel.shape()[a] % 4 == 0) plan.Do({ActionKind::kUpcast, a, 4});
    return a;
  }
  int r = LastAxisOf(kernel, AxisKind::kReduce);
  if (r >= 0 && VectorFriendly(kernel, reduce, r)) {
    if (int64_t w = FitWidth(kernel.shape()[r], width); w > 0) plan.Do({ActionKind::kVectorize, r, w});
  }
  return -1;
}

// Upcasts a global axis (other than `skip`) along which some operand is reused, so one
// load feeds several accumulators. Returns the axis, or -1.
int UpcastReuseAxis(Plan& plan, const KNode* reduce, int skip) {
  const Kernel& kernel = plan.kernel;
  for (int a = LastAxisOf(kernel, AxisKind::kGlobal); a >= 0; --a) {
    if (a == skip || !HasReuse(kernel, reduce, a)) continue;
    if (kernel.UpcastSize() * 4 > kMaxUpcastElements) return -1;
    if (plan.Do({ActionKind::kUpcast, a, 4})) return a;
  }
  return -1;
}

void UnrollReduce(Plan& plan) {
  const Kernel& kernel = plan.kernel;
  int r = LastAxisOf(kernel, AxisKind::kReduce);
  if (r < 0) return;
  int64_t size = kernel.shape()[r];
  int64_t amount = size <= 8 ? size : 4;
  if (kernel.UpcastSize() * amount > kMaxExpanded) return;
  plan.Do({ActionKind::kUnroll, r, amount});
}

// GPU reduces with few outputs: the threads of one block split the innermost reduce axis
// (neighbouring threads read neighbouring elements) and combine through shared memory.
bool Group(Plan& plan) {
  const Kernel& kernel = plan.kernel;
  int64_t outputs = 1;
  for (size_t a = 0; a < kernel.shape().size(); ++a)
    if (kernel.kinds()[a] == AxisKind::kGlobal) outputs *= kernel.shape()[a];
  int r = LastAxisOf(kernel, AxisKind::kReduce);
  if (outputs > 65536 || r < 0) return false;
  for (int64_t threads : {256, 128, 64, 32})
    if (kernel.shape()[r] >= 4 * threads && plan.Do({ActionKind::kGroup, r, threads})) return true;
  return false;
}

// The heuristics on a normalized kernel, recorded in `plan`.
void Choose(Plan& plan) {
  const Kernel& kernel = plan.kernel;
  const KNode* reduce = KernelAst::FindReduce(kernel.ast().root);
  if (!reduce) return;  // elementwise: the C compiler vectorizes the plain inner loop
  if (!kernel.props().capabilities.loops_over_chunks) {
    if (Group(plan)) return;
    // One thread per index (GPUs): scalar threads with a 4x4 register tile over two reused axes.
    int first = UpcastReuseAxis(plan, reduce, -1);
    if (first >= 0) UpcastReuseAxis(plan, reduce, first);
    UnrollReduce(plan);
    return;
  }
  int vector_parent = Vectorize(plan, reduce);
  // A register tile as large as the registers allow (kMaxUpcastElements).
  while (UpcastReuseAxis(plan, reduce, vector_parent) >= 0) {}
  UnrollReduce(plan);
  // Loop over the vector operand's blocks outermost: each block then stays in cache while
  // the inner global loops reuse it (for a matmul: a column panel of B across all rows).
  if (vector_parent > 0) plan.Do({ActionKind::kLoopOrder, vector_parent, 0});
}

}  // namespace

std::vector<Action> HeuristicActions(const Kernel& kernel) {
  Kernel copy = kernel;
  copy.Normalize();
  Plan plan{copy, {}};
  Choose(plan);
  return plan.actions;
}

void ApplyHeuristics(Kernel& kernel) {
  kernel.Normalize();
  Plan plan{kernel, {}};
  Choose(plan);
}

}  // namespace petabox
