#include "engine/codegen/tc/gemm_plan.h"

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>

#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/render/dialect.h"

namespace petabox {
namespace {

constexpr int64_t kMinDim = 16;        // smaller M, N or K: one MMA tile would be mostly padding
constexpr int64_t kMaxBatch = 65535;   // the batch is the grid's y dimension

bool IsHalf(DType d) { return d == DType::kFloat16 || d == DType::kBFloat16; }

// The LOAD under `k`: a float32 load, a 16-bit load, or a 16-bit load cast to float32.
const KNode* OperandLoad(const KNode* k) {
  if (k->kind == KKind::kAlu && k->op == Op::kCast && k->dtype == DType::kFloat32) {
    k = k->srcs[0].get();
    return k->kind == KKind::kLoad && IsHalf(k->dtype) ? k : nullptr;
  }
  return k->kind == KKind::kLoad && (IsHalf(k->dtype) || k->dtype == DType::kFloat32) ? k : nullptr;
}

// The single REDUCE in the tree, or null when there is none or more than one.
const KNode* SingleReduce(const KNode* k, int* count) {
  const KNode* found = k->kind == KKind::kReduce ? k : nullptr;
  if (found) ++*count;
  for (const KRef& s : k->srcs)
    if (const KNode* r = SingleReduce(s.get(), count); r && !found) found = r;
  return *count == 1 ? found : nullptr;
}

enum class Role : uint8_t { kBatch, kM, kN, kK };

struct Roles {
  std::vector<Role> of;                 // per kernel axis
  int64_t size[4] = {1, 1, 1, 1};       // by Role
};

bool Uses(const ShapeTracker& st, const std::vector<sym::ExprRef>& vars, const std::string& var) {
  auto [index, valid] = st.IndexExpr(vars);
  return sym::Uses(index, var) || sym::Uses(valid, var);
}

Roles AssignRoles(const Kernel& kernel, const KNode* a, const KNode* b) {
  std::vector<sym::ExprRef> vars;
  for (size_t i = 0; i < kernel.shape().size(); ++i)
    vars.push_back(sym::Var("a" + std::to_string(i), 0, kernel.shape()[i] - 1));
  Roles r;
  for (size_t i = 0; i < kernel.shape().size(); ++i) {
    const std::string v = "a" + std::to_string(i);
    bool ua = Uses(kernel.ViewOf(a), vars, v), ub = Uses(kernel.ViewOf(b), vars, v);
    Role role = kernel.kinds()[i] == AxisKind::kReduce ? Role::kK
                : ua && !ub                            ? Role::kM
                : ub && !ua                            ? Role::kN
                                                       : Role::kBatch;
    r.of.push_back(role);
    r.size[static_cast<int>(role)] *= kernel.shape()[i];
  }
  return r;
}

// Per kernel axis, its coordinate as an expression of the role variables gb, gm, gn, gk
// (each role's axes, in kernel order, are the digits of its variable).
std::vector<sym::ExprRef> AxisCoords(const Kernel& kernel, const Roles& roles) {
  static const char* kVar[4] = {"gb", "gm", "gn", "gk"};
  std::vector<sym::ExprRef> coords(kernel.shape().size());
  int64_t inner[4] = {1, 1, 1, 1};
  for (int i = static_cast<int>(coords.size()) - 1; i >= 0; --i) {
    int r = static_cast<int>(roles.of[i]);
    sym::ExprRef var = sym::Var(kVar[r], 0, roles.size[r] - 1);
    coords[i] = sym::Mod(sym::Div(var, inner[r]), kernel.shape()[i]);
    inner[r] *= kernel.shape()[i];
  }
  return coords;
}

// True when every value of e is a multiple of `q` (conservatively: div/mod say no).
bool AllMultiplesOf(const sym::ExprRef& e, int64_t q) {
  switch (e->kind) {
    case sym::Kind::kConst: return e->value % q == 0;
    case sym::Kind::kMul: return e->value % q == 0 || AllMultiplesOf(e->srcs[0], q);
    case sym::Kind::kAdd:
      for (const sym::ExprRef& s : e->srcs)
        if (!AllMultiplesOf(s, q)) return false;
      return true;
    default: return false;
  }
}

// 16-byte copies along `var` need stride 1 there, whole 16-byte chunks and 16-byte aligned
// chunk starts for every value of the other variables.
bool Copies16(const GemmOperand& op, const std::string& var, int64_t extent) {
  const int64_t per_chunk = 16 / ItemSize(op.dtype);
  if (!sym::IsConst(op.valid, 1) || extent % per_chunk != 0) return false;
  if (sym::LinearCoeff(op.index, var) != 1) return false;
  return AllMultiplesOf(sym::Substitute(op.index, {{var, sym::Const(0)}}), per_chunk);
}

GemmOperand MakeOperand(const Kernel& kernel, const KNode* load, std::vector<sym::ExprRef> coords,
                        const Roles& roles, Role other, const char* row_var, int64_t rows) {
  for (size_t i = 0; i < coords.size(); ++i)
    if (roles.of[i] == other) coords[i] = sym::Const(0);  // the operand does not move there
  GemmOperand op;
  op.buf = load->buf;
  op.dtype = load->dtype;
  std::tie(op.index, op.valid) = kernel.ViewOf(load).IndexExpr(coords);
  if (Copies16(op, "gk", roles.size[static_cast<int>(Role::kK)])) op.layout = GemmLayout::kKContiguous;
  else if (Copies16(op, row_var, rows)) op.layout = GemmLayout::kMnContiguous;
  else if (sym::LinearCoeff(op.index, row_var) == 1) op.layout = GemmLayout::kGenericMn;
  return op;
}

std::string Literal(const Dialect& d, DType dtype, double v) {
  if (IsFloat(dtype)) {
    if (std::isnan(v)) return d.nan;
    if (std::isinf(v)) return v > 0 ? d.inf : "(-" + d.inf + ")";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%af", static_cast<float>(v));
    return "(" + std::string(buf) + ")";
  }
  std::string s = std::to_string(static_cast<int64_t>(v));
  if (dtype == DType::kInt64) return "((int64_t)" + s + "LL)";
  return "((" + std::string(d.types[static_cast<int>(dtype)].compute) + ")" + s + ")";
}

// The epilogue: the tree above the reduce as one C expression, `acc` standing for the sum.
std::string Epilogue(const Kernel& kernel, const KNode* k, const KNode* reduce, const std::vector<sym::ExprRef>& coords,
                     const Dialect& d, int64_t* max_index) {
  if (k == reduce) return "acc";
  const TypeSyntax& t = d.types[static_cast<int>(k->dtype)];
  if (k->kind == KKind::kConst) return Literal(d, k->dtype, k->value);
  if (k->kind == KKind::kLoad) {
    auto [index, valid] = kernel.ViewOf(k).IndexExpr(coords);
    *max_index = std::max(*max_index, std::max(index->max, -index->min));
    std::string load = Format(t.load, {{"0", "data" + std::to_string(k->buf) + "[" + sym::Render(index) + "]"}});
    if (sym::IsConst(valid, 1)) return load;
    return "(" + sym::Render(valid) + " ? " + load + " : " + Literal(d, k->dtype, 0) + ")";
  }
  std::vector<std::pair<std::string, std::string>> ops{{"T", t.compute}};
  for (size_t i = 0; i < k->srcs.size(); ++i)
    ops.emplace_back(std::to_string(i), Epilogue(kernel, k->srcs[i].get(), reduce, coords, d, max_index));
  return Format(d.alu[static_cast<int>(k->op)], ops);
}

}  // namespace

std::optional<GemmPlan> MatchGemm(const Kernel& kernel, const Dialect& dialect) {
  const KernelAst& ast = kernel.ast();
  int reduces = 0;
  const KNode* reduce = SingleReduce(ast.root.get(), &reduces);
  if (!reduce || reduce->op != Op::kReduceSum) return std::nullopt;
  const KNode* body = reduce->srcs[0].get();
  if (body->kind != KKind::kAlu || body->op != Op::kMul) return std::nullopt;
  const KNode* a = OperandLoad(body->srcs[0].get());
  const KNode* b = OperandLoad(body->srcs[1].get());
  if (!a || !b || a->dtype != b->dtype) return std::nullopt;
  for (AxisKind kind : kernel.kinds())
    if (kind != AxisKind::kGlobal && kind != AxisKind::kReduce) return std::nullopt;

  Roles roles = AssignRoles(kernel, a, b);
  GemmPlan plan;
  plan.batch = roles.size[0], plan.m = roles.size[1], plan.n = roles.size[2], plan.k = roles.size[3];
  if (plan.m < kMinDim || plan.n < kMinDim || plan.k < kMinDim || plan.batch > kMaxBatch) return std::nullopt;
  std::vector<sym::ExprRef> coords = AxisCoords(kernel, roles);
  plan.a = MakeOperand(kernel, a, coords, roles, Role::kN, "gm", plan.m);
  plan.b = MakeOperand(kernel, b, coords, roles, Role::kM, "gn", plan.n);
  std::vector<sym::ExprRef> out_coords = coords;
  for (size_t i = 0; i < coords.size(); ++i)
    if (roles.of[i] == Role::kK) out_coords[i] = sym::Const(0);
  plan.out_index = kernel.ViewOf(nullptr).IndexExpr(out_coords).first;
  plan.out_dtype = ast.buf_dtypes[0];
  plan.epilogue = Epilogue(kernel, ast.root.get(), reduce, out_coords, dialect, &plan.max_index);
  for (const sym::ExprRef& e : {plan.a.index, plan.b.index, plan.out_index})
    plan.max_index = std::max(plan.max_index, std::max(e->max, -e->min));
  plan.buf_dtypes = ast.buf_dtypes;
  plan.name = std::to_string(plan.batch) + "_" + std::to_string(plan.m) + "_" + std::to_string(plan.n) + "_" +
              std::to_string(plan.k);
  return plan;
}

}  // namespace petabox
