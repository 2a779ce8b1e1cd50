#include "engine/codegen/opt/action.h"

#include <array>
#include <cstdlib>
#include <sstream>

#include "engine/codegen/render/dialect.h"

namespace petabox {
namespace {

// Upcast * unroll elements: bounds the expanded code (compile time, instruction cache).
constexpr int64_t kMaxExpanded = 1024;
constexpr int64_t kMaxGroupThreads = 1024;  // threads of one GPU block

struct KindName {
  ActionKind kind;
  const char* name;
};
constexpr std::array<KindName, 5> kKindNames{{{ActionKind::kUpcast, "upcast"},
                                              {ActionKind::kUnroll, "unroll"},
                                              {ActionKind::kVectorize, "vectorize"},
                                              {ActionKind::kGroup, "group"},
                                              {ActionKind::kLoopOrder, "looporder"}}};


bool HasKind(const Kernel& kernel, AxisKind kind) {
  for (AxisKind k : kernel.kinds())
    if (k == kind) return true;
  return false;
}

int CountKind(const Kernel& kernel, AxisKind kind) {
  int n = 0;
  for (AxisKind k : kernel.kinds()) n += k == kind;
  return n;
}

Status CheckSplit(const Kernel& kernel, const Action& a, AxisKind want, const char* what) {
  if (kernel.kinds()[a.axis] != want) return InvalidArgument(ToString(a) + ": axis is not a " + what + " axis");
  if (a.amount < 2 || kernel.shape()[a.axis] % a.amount != 0)
    return InvalidArgument(ToString(a) + ": " + std::to_string(a.amount) + " does not divide axis size " +
                           std::to_string(kernel.shape()[a.axis]));
  return Status::Ok();
}

Status CheckExpanded(const Kernel& kernel, const Action& a) {
  if (kernel.UpcastSize() * a.amount > kMaxExpanded)
    return InvalidArgument(ToString(a) + ": expanded code would exceed " + std::to_string(kMaxExpanded) + " elements");
  return Status::Ok();
}

Status CheckVectorize(const Kernel& kernel, const Action& a) {
  // An unknown dialect is left to the renderer (the heuristics' decisions follow capabilities).
  const Dialect* dialect = FindDialect(kernel.props().dialect);
  if (dialect && dialect->vector_type.empty())
    return InvalidArgument(ToString(a) + ": dialect '" + kernel.props().dialect + "' has no vector types");
  if (kernel.vector_axis() >= 0) return InvalidArgument(ToString(a) + ": the kernel is already vectorized");
  if (HasKind(kernel, AxisKind::kGroup)) return InvalidArgument(ToString(a) + ": grouped reduce");
  const KNode* reduce = KernelAst::FindReduce(kernel.ast().root);
  if (!reduce || reduce->op != Op::kReduceSum || !VectorSafe(reduce))
    return InvalidArgument(ToString(a) + ": only float32 sums of adds and products vectorize");
  if ((a.amount & (a.amount - 1)) != 0 || a.amount * 4 > 64)
    return InvalidArgument(ToString(a) + ": vector width must be a power of two of at most 64 bytes");
  AxisKind kind = kernel.kinds()[a.axis];
  if (kind != AxisKind::kGlobal && kind != AxisKind::kReduce)
    return InvalidArgument(ToString(a) + ": only a global or reduce axis vectorizes");
  PB_RETURN_IF_ERROR(CheckSplit(kernel, a, kind, kind == AxisKind::kGlobal ? "global" : "reduce"));
  return CheckExpanded(kernel, a);
}

Status CheckGroup(const Kernel& kernel, const Action& a) {
  const Dialect* dialect = FindDialect(kernel.props().dialect);
  if ((dialect && dialect->shared.empty()) || kernel.props().capabilities.loops_over_chunks)
    return InvalidArgument(ToString(a) + ": device has no block-shared memory");
  // The linearizer combines one accumulator per thread through shared memory.
  if (HasKind(kernel, AxisKind::kGroup) || HasKind(kernel, AxisKind::kUpcast) || kernel.vector_axis() >= 0)
    return InvalidArgument(ToString(a) + ": a group needs a single scalar accumulator per thread");
  if (a.amount > kMaxGroupThreads) return InvalidArgument(ToString(a) + ": more threads than a block holds");
  return CheckSplit(kernel, a, AxisKind::kReduce, "reduce");
}

Status Check(const Kernel& kernel, const Action& a) {
  if (a.axis < 0 || a.axis >= static_cast<int>(kernel.shape().size()))
    return InvalidArgument(ToString(a) + ": axis out of range (kernel has " + std::to_string(kernel.shape().size()) +
                           " axes)");
  switch (a.kind) {
    case ActionKind::kUpcast:
      if (HasKind(kernel, AxisKind::kGroup)) return InvalidArgument(ToString(a) + ": grouped reduce");
      PB_RETURN_IF_ERROR(CheckSplit(kernel, a, AxisKind::kGlobal, "global"));
      return CheckExpanded(kernel, a);
    case ActionKind::kUnroll:
      PB_RETURN_IF_ERROR(CheckSplit(kernel, a, AxisKind::kReduce, "reduce"));
      return CheckExpanded(kernel, a);
    case ActionKind::kVectorize: return CheckVectorize(kernel, a);
    case ActionKind::kGroup: return CheckGroup(kernel, a);
    case ActionKind::kLoopOrder:
      if (kernel.kinds()[a.axis] != AxisKind::kGlobal || a.amount < 0 ||
          a.amount >= CountKind(kernel, AxisKind::kGlobal) || a.amount == a.axis)
        return InvalidArgument(ToString(a) + ": needs a global axis and another global position");
      return Status::Ok();
  }
  return InvalidArgument("unknown action kind");
}

}  // namespace

std::string ToString(const Action& action) {
  std::string name = "?";
  for (const KindName& k : kKindNames)
    if (k.kind == action.kind) name = k.name;
  return name + ":" + std::to_string(action.axis) + ":" + std::to_string(action.amount);
}

std::string ToString(const std::vector<Action>& actions) {
  std::string out;
  for (const Action& a : actions) out += (out.empty() ? "" : ",") + ToString(a);
  return out;
}

StatusOr<std::vector<Action>> ParseActions(const std::string& text) {
  std::vector<Action> actions;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t c1 = item.find(':'), c2 = item.rfind(':');
    if (c1 == std::string::npos || c1 == c2) return InvalidArgument("bad action '" + item + "'");
    Action a;
    bool known = false;
    for (const KindName& k : kKindNames)
      if (item.compare(0, c1, k.name) == 0 && std::string_view(k.name).size() == c1) a.kind = k.kind, known = true;
    char* end = nullptr;
    a.axis = static_cast<int>(std::strtol(item.c_str() + c1 + 1, &end, 10));
    bool axis_ok = end == item.c_str() + c2;
    a.amount = std::strtoll(item.c_str() + c2 + 1, &end, 10);
    if (!known || !axis_ok || *end != '\0' || c2 + 1 == item.size()) return InvalidArgument("bad action '" + item + "'");
    actions.push_back(a);
  }
  return actions;
}

Status ApplyAction(Kernel& kernel, const Action& a) {
  PB_RETURN_IF_ERROR(Check(kernel, a));
  switch (a.kind) {
    case ActionKind::kUpcast: kernel.Split(a.axis, a.amount, AxisKind::kUpcast); break;
    case ActionKind::kUnroll: kernel.Split(a.axis, a.amount, AxisKind::kUnroll); break;
    case ActionKind::kGroup: kernel.Split(a.axis, a.amount, AxisKind::kGroup); break;
    case ActionKind::kVectorize: {
      const AxisKind kind = kernel.kinds()[a.axis] == AxisKind::kGlobal ? AxisKind::kUpcast : AxisKind::kUnroll;
      int lanes = kernel.Split(a.axis, a.amount, kind);
      // The vector is the innermost axis of its kind (kernel.h), after earlier tiles.
      int last = lanes;
      while (last + 1 < static_cast<int>(kernel.shape().size()) && kernel.kinds()[last + 1] == kind) ++last;
      kernel.MoveAxis(lanes, last);
      kernel.SetVectorAxis(last);
      break;
    }
    case ActionKind::kLoopOrder: kernel.MoveAxis(a.axis, static_cast<int>(a.amount)); break;
  }
  return Status::Ok();
}

Status ApplyActions(Kernel& kernel, const std::vector<Action>& actions) {
  kernel.Normalize();
  for (size_t i = 0; i < actions.size(); ++i) {
    Status s = ApplyAction(kernel, actions[i]);
    if (!s.ok()) return Status(s.code(), "action " + std::to_string(i) + " " + s.message());
  }
  return Status::Ok();
}

std::vector<Action> CandidateActions(const Kernel& kernel) {
  std::vector<Action> menu;
  const int64_t lanes = kernel.props().vector_bytes / 4;
  for (int axis = 0; axis < static_cast<int>(kernel.shape().size()); ++axis) {
    for (int64_t n : {2, 4, 8}) menu.push_back({ActionKind::kUpcast, axis, n});
    for (int64_t n : {2, 4, 8}) menu.push_back({ActionKind::kUnroll, axis, n});
    if (kernel.shape()[axis] <= 16) menu.push_back({ActionKind::kUnroll, axis, kernel.shape()[axis]});
    for (int64_t n : {lanes / 2, lanes}) menu.push_back({ActionKind::kVectorize, axis, n});
    for (int64_t n : {32, 64, 128, 256}) menu.push_back({ActionKind::kGroup, axis, n});
    menu.push_back({ActionKind::kLoopOrder, axis, 0});
  }
  std::vector<Action> valid;
  for (const Action& a : menu) {
    bool seen = false;
    for (const Action& v : valid) seen |= v == a;
    if (!seen && Check(kernel, a).ok()) valid.push_back(a);
  }
  return valid;
}

bool VectorSafe(const KNode* k) {
  if (k->dtype != DType::kFloat32) return false;
  if (k->kind == KKind::kAlu && k->op != Op::kAdd && k->op != Op::kMul && k->op != Op::kNeg) return false;
  if ((k->kind == KKind::kLoad || k->kind == KKind::kConst) && k->st.HasMask()) return false;
  for (const KRef& s : k->srcs)
    if (!VectorSafe(s.get())) return false;
  return true;
}

}  // namespace petabox
