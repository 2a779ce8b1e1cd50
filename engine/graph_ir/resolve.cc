#include "engine/graph_ir/resolve.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace petabox::graph {
namespace {

std::string Str(int64_t v) { return std::to_string(v); }

Status NodeError(const GraphIr& g, size_t i, const std::string& what) {
  return InvalidArgument("graph " + NodeLabel(g, i) + ": " + what);
}

bool IsLeaf(const IrNode& n) { return n.op == Op::kBuffer && n.leaf != LeafKind::kNone; }

// Ops a graph may hold: the primitives, without the ones that only make sense inside one
// process (EMPTY, COPY between devices, ASSIGN, BUFFER), plus leaves.
bool AllowedOp(const IrNode& n) {
  switch (n.op) {
    case Op::kEmpty: case Op::kCopy: case Op::kAssign: return false;
    case Op::kBuffer: return n.leaf != LeafKind::kNone;
    default: return static_cast<int>(n.op) < kNumOps;
  }
}

// Checked product of a shape's sizes; false on overflow or past `limit`.
bool CheckedProduct(const std::vector<int64_t>& shape, int64_t limit, int64_t* out) {
  int64_t p = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(p, d, &p) || p > limit) return false;
  }
  *out = p;
  return true;
}

Status CheckTensor(const IrTensor& t, const char* kind, const GraphLimits& limits) {
  const std::string label = std::string(kind) + " '" + t.name + "'";
  if (static_cast<int>(t.dtype) > static_cast<int>(DType::kFloat32)) return InvalidArgument("graph " + label + ": unknown dtype");
  if (static_cast<int>(t.shape.size()) > limits.max_ndim)
    return InvalidArgument("graph " + label + ": " + Str(t.shape.size()) + " dimensions (at most " + Str(limits.max_ndim) + ")");
  int64_t numel = 0;
  if (!CheckedProduct(t.shape, limits.max_tensor_elements, &numel)) {
    return InvalidArgument("graph " + label + ": shape " + ShapeToString(t.shape) +
                           " is negative or too large (at most " + Str(limits.max_tensor_elements) + " elements)");
  }
  if (!t.data.empty() || t.init.kind == Initializer::Kind::kNone) {
    const uint64_t want = static_cast<uint64_t>(numel) * static_cast<uint64_t>(ItemSize(t.dtype));
    if (t.data.size() != want) {
      return InvalidArgument("graph " + label + ": " + Str(static_cast<int64_t>(t.data.size())) + " bytes of values, " +
                             std::to_string(want) + " expected for " + Name(t.dtype) + ShapeToString(t.shape));
    }
    return Status::Ok();
  }
  const Initializer& in = t.init;
  if (!std::isfinite(in.a) || !std::isfinite(in.b) || (in.kind == Initializer::Kind::kUniform && in.a > in.b) ||
      (in.kind == Initializer::Kind::kNormal && in.b < 0) || static_cast<int>(in.kind) > 3) {
    return InvalidArgument("graph " + label + ": invalid initializer (uniform needs low <= high, normal stddev >= 0, finite values)");
  }
  return Status::Ok();
}

Status CheckTensors(const GraphIr& g, const GraphLimits& limits) {
  if (static_cast<int64_t>(g.parameters.size() + g.state.size() + g.constants.size()) > limits.max_tensors)
    return InvalidArgument("graph: more than " + Str(limits.max_tensors) + " tensors");
  std::set<std::string> names;
  auto named = [&](const IrTensor& t, const char* kind) -> Status {
    if (t.name.empty()) return InvalidArgument(std::string("graph: a ") + kind + " has no name");
    if (!names.insert(t.name).second) return InvalidArgument("graph: the name '" + t.name + "' is used twice");
    return CheckTensor(t, kind, limits);
  };
  for (const IrTensor& t : g.parameters) {
    PB_RETURN_IF_ERROR(named(t, "parameter"));
    if (!IsFloat(t.dtype)) return InvalidArgument("graph parameter '" + t.name + "': " + Name(t.dtype) + " is not a float dtype");
  }
  for (const IrTensor& t : g.state) PB_RETURN_IF_ERROR(named(t, "state"));
  for (size_t i = 0; i < g.constants.size(); ++i) {
    if (g.constants[i].init.kind != Initializer::Kind::kNone)
      return InvalidArgument("graph constant " + Str(i) + ": a constant needs its values, not an initializer");
    PB_RETURN_IF_ERROR(CheckTensor(g.constants[i], "constant", limits));
  }
  return Status::Ok();
}

Status CheckInputs(const GraphIr& g, const GraphLimits& limits) {
  if (static_cast<int64_t>(g.inputs.size()) > limits.max_inputs) return InvalidArgument("graph: too many inputs");
  std::set<std::string> names;
  for (const IrInput& in : g.inputs) {
    if (in.name.empty() || !names.insert(in.name).second)
      return InvalidArgument("graph: input name '" + in.name + "' is empty or used twice");
    if (static_cast<int>(in.dtype) > static_cast<int>(DType::kFloat32))
      return InvalidArgument("graph input '" + in.name + "': unknown dtype");
    int64_t numel = 0;
    if (static_cast<int>(in.sample_shape.size()) >= limits.max_ndim ||
        !CheckedProduct(in.sample_shape, limits.max_tensor_elements, &numel))
      return InvalidArgument("graph input '" + in.name + "': per-sample shape " + ShapeToString(in.sample_shape) +
                             " is negative or too large");
  }
  return Status::Ok();
}

// Arity, leaf references and arguments that do not depend on shapes.
Status CheckNodeStructure(const GraphIr& g, size_t i, const GraphLimits& limits) {
  const IrNode& n = g.nodes[i];
  if (!AllowedOp(n)) {
    return NodeError(g, i, static_cast<int>(n.op) < kNumOps ? std::string("op ") + Name(n.op) + " is not allowed in a graph"
                                                             : "unknown op " + Str(static_cast<int>(n.op)));
  }
  if (static_cast<int>(n.dtype) > static_cast<int>(DType::kFloat32)) return NodeError(g, i, "unknown dtype");
  if (static_cast<int>(n.shape.size()) > limits.max_ndim)
    return NodeError(g, i, Str(n.shape.size()) + " dimensions (at most " + Str(limits.max_ndim) + ")");
  for (const Dim& d : n.shape) {
    if (std::abs(d.fixed) > limits.max_dim || std::abs(d.per_sample) > limits.max_dim)
      return NodeError(g, i, "a dimension is out of range");
  }
  for (const DimRange& r : n.ranges) {
    for (const Dim& d : {r.begin, r.end})
      if (std::abs(d.fixed) > limits.max_dim || std::abs(d.per_sample) > limits.max_dim)
        return NodeError(g, i, "a range bound is out of range");
  }
  const int arity = IsLeaf(n) ? 0 : Info(n.op).arity;
  if (static_cast<int>(n.srcs.size()) != arity)
    return NodeError(g, i, Str(n.srcs.size()) + " sources, " + Name(n.op) + " takes " + Str(arity));
  for (uint32_t s : n.srcs) {
    if (s >= i) {
      return NodeError(g, i, "source " + Str(s) + " is not an earlier node (" +
                                 (s >= g.nodes.size() ? "dangling reference" : "a cycle or forward reference") +
                                 "; nodes are listed sources first)");
    }
  }
  if (!IsLeaf(n)) return Status::Ok();
  size_t count = 0;
  switch (n.leaf) {
    case LeafKind::kInput: count = g.inputs.size(); break;
    case LeafKind::kParameter: count = g.parameters.size(); break;
    case LeafKind::kState: count = g.state.size(); break;
    case LeafKind::kConstant: count = g.constants.size(); break;
    default: return NodeError(g, i, "unknown leaf kind");
  }
  if (n.leaf_index >= count) return NodeError(g, i, "refers to leaf " + Str(n.leaf_index) + ", which does not exist (" + Str(count) + " defined)");
  return Status::Ok();
}

Status CheckOutputs(const GraphIr& g) {
  std::set<std::string> names;
  for (const IrOutput& o : g.outputs) {
    if (o.name.empty() || !names.insert(o.name).second) return InvalidArgument("graph: output name '" + o.name + "' is empty or used twice");
    if (o.node >= g.nodes.size())
      return InvalidArgument("graph output '" + o.name + "': node " + Str(o.node) + " does not exist (dangling reference)");
  }
  int loss = g.FindOutput(kLossOutput);
  if (loss < 0) return InvalidArgument("graph: no output named 'loss' (the value training minimizes)");
  const IrNode& n = g.nodes[g.outputs[loss].node];
  if (!n.shape.empty() || !IsFloat(n.dtype))
    return InvalidArgument("graph output 'loss': must be a float scalar, is " + std::string(Name(n.dtype)) + " with " +
                           Str(n.shape.size()) + " dimensions");
  for (const IrTensor& s : g.state) {
    if (s.update < 0) continue;
    if (s.update >= static_cast<int64_t>(g.nodes.size()))
      return InvalidArgument("graph state '" + s.name + "': update node " + Str(s.update) + " does not exist (dangling reference)");
  }
  return Status::Ok();
}

Status CheckDepth(const GraphIr& g, const GraphLimits& limits) {
  std::vector<int64_t> depth(g.nodes.size(), 1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (uint32_t s : g.nodes[i].srcs) depth[i] = std::max(depth[i], depth[s] + 1);
    if (depth[i] > limits.max_depth)
      return NodeError(g, i, "the graph is deeper than " + Str(limits.max_depth) + " nodes");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- per-op shape rules

struct Ctx {
  const GraphIr& g;
  const ResolvedGraph& r;
  size_t i;
  const IrNode& n;
  Status Err(const std::string& what) const { return NodeError(g, i, what); }
  const IrNode& Src(int k) const { return g.nodes[n.srcs[k]]; }
  const Shape& SrcShape(int k) const { return r.nodes[n.srcs[k]].shape; }
};

Status CheckAxes(const Ctx& c, int ndim, bool permutation) {
  std::vector<bool> seen(ndim, false);
  if (permutation && static_cast<int>(c.n.axes.size()) != ndim)
    return c.Err("permutation of " + Str(c.n.axes.size()) + " axes for " + Str(ndim) + " dimensions");
  if (!permutation && c.n.axes.empty()) return c.Err("no axes");
  for (int a : c.n.axes) {
    if (a < 0 || a >= ndim || seen[a]) return c.Err("axis " + Str(a) + " is out of range or repeated for " + Str(ndim) + " dimensions");
    seen[a] = true;
  }
  return Status::Ok();
}

// The output shape an op computes from its sources at this batch size.
StatusOr<Shape> InferShape(const Ctx& c, const Shape& declared, std::vector<Range>* ranges) {
  const IrNode& n = c.n;
  const OpClass cls = Info(n.op).cls;
  if (cls == OpClass::kUnary || cls == OpClass::kBinary || cls == OpClass::kTernary || n.op == Op::kContiguous ||
      n.op == Op::kDetach) {
    for (size_t k = 1; k < n.srcs.size(); ++k)
      if (c.SrcShape(k) != c.SrcShape(0))
        return c.Err("source shapes " + ShapeToString(c.SrcShape(0)) + " and " + ShapeToString(c.SrcShape(k)) + " differ");
    return c.SrcShape(0);
  }
  const Shape& in = n.srcs.empty() ? declared : c.SrcShape(0);
  const int nd = static_cast<int>(in.size());
  switch (n.op) {
    case Op::kConst:
      if (!declared.empty()) return c.Err("CONST must be a scalar (expand it with RESHAPE and EXPAND)");
      return Shape{};
    case Op::kReduceSum: case Op::kReduceMax: {
      PB_RETURN_IF_ERROR(CheckAxes(c, nd, false));
      Shape out = in;
      for (int a : n.axes) out[a] = 1;
      return out;
    }
    case Op::kPermute: {
      PB_RETURN_IF_ERROR(CheckAxes(c, nd, true));
      Shape out;
      for (int a : n.axes) out.push_back(in[a]);
      return out;
    }
    case Op::kFlip: PB_RETURN_IF_ERROR(CheckAxes(c, nd, false)); return in;
    case Op::kReshape: {
      int64_t a = 0, b = 0;
      if (!CheckedProduct(in, INT64_MAX, &a) || !CheckedProduct(declared, INT64_MAX, &b) || a != b)
        return c.Err("cannot reshape " + ShapeToString(in) + " to " + ShapeToString(declared));
      return declared;
    }
    case Op::kExpand: {
      if (declared.size() != in.size()) return c.Err("cannot expand " + ShapeToString(in) + " to " + ShapeToString(declared));
      for (int k = 0; k < nd; ++k)
        if (in[k] != declared[k] && in[k] != 1) return c.Err("cannot expand " + ShapeToString(in) + " to " + ShapeToString(declared));
      return declared;
    }
    case Op::kPad: case Op::kShrink: {
      if (static_cast<int>(ranges->size()) != nd) return c.Err(Str(ranges->size()) + " ranges for " + Str(nd) + " dimensions");
      Shape out(nd);
      for (int k = 0; k < nd; ++k) {
        auto [b, e] = (*ranges)[k];
        bool ok = n.op == Op::kPad ? b >= 0 && e >= 0 : 0 <= b && b <= e && e <= in[k];
        if (!ok) return c.Err("range (" + Str(b) + ", " + Str(e) + ") does not fit dimension " + Str(k) + " of " + ShapeToString(in));
        out[k] = n.op == Op::kPad ? in[k] + b + e : e - b;
      }
      return out;
    }
    default: return c.Err("cannot infer a shape");
  }
}

bool IsIntOrBool(DType d) { return !IsFloat(d); }

// The dtype rules: what each op accepts and produces.
Status CheckDTypes(const Ctx& c) {
  const IrNode& n = c.n;
  const DType out = n.dtype;
  auto src = [&](int k) { return c.Src(k).dtype; };
  auto bad = [&](const std::string& why) { return c.Err("dtype: " + why); };
  switch (n.op) {
    case Op::kExp2: case Op::kLog2: case Op::kSin: case Op::kSqrt: case Op::kRecip:
      if (!IsFloat(src(0)) || out != src(0)) return bad(std::string(Name(n.op)) + " needs a float source and keeps its dtype");
      return Status::Ok();
    case Op::kNeg:
      if (src(0) == DType::kBool || out != src(0)) return bad("NEG needs a numeric source and keeps its dtype");
      return Status::Ok();
    case Op::kCast: return Status::Ok();
    case Op::kBitcast:
      if (ItemSize(out) != ItemSize(src(0))) return bad("BITCAST between dtypes of different sizes");
      return Status::Ok();
    case Op::kCmpLt: case Op::kCmpNe:
      if (src(0) != src(1) || out != DType::kBool) return bad("comparisons take equal dtypes and give bool");
      return Status::Ok();
    case Op::kMod: case Op::kIdiv:
      if (src(0) != src(1) || out != src(0) || !IsInt(out)) return bad(std::string(Name(n.op)) + " takes and gives one integer dtype");
      return Status::Ok();
    case Op::kXor: case Op::kAnd: case Op::kOr:
      if (src(0) != src(1) || out != src(0) || !IsIntOrBool(out)) return bad(std::string(Name(n.op)) + " takes and gives one integer or bool dtype");
      return Status::Ok();
    case Op::kAdd: case Op::kMul: case Op::kMax:
      if (src(0) != src(1) || out != src(0)) return bad("sources " + std::string(Name(src(0))) + " and " + Name(src(1)) + ", output " + Name(out) + " (all must be equal)");
      return Status::Ok();
    case Op::kWhere:
      if (src(0) != DType::kBool || src(1) != src(2) || out != src(1)) return bad("WHERE takes (bool, T, T) and gives T");
      return Status::Ok();
    case Op::kReduceSum:
      if (src(0) == DType::kBool || out != src(0)) return bad("SUM keeps its (non-bool) source dtype");
      return Status::Ok();
    case Op::kConst: return Status::Ok();
    default:  // reduce max, movement, contiguous, detach
      if (out != src(0)) return bad(std::string("output ") + Name(out) + " differs from source " + Name(src(0)));
      return Status::Ok();
  }
}

// The declared shape, size and arguments of node i at this batch size.
Status ResolveNode(const GraphIr& g, ResolvedGraph& r, size_t i, const GraphLimits& limits) {
  const IrNode& n = g.nodes[i];
  ResolvedNode& rn = r.nodes[i];
  Shape declared;
  for (const Dim& d : n.shape) {
    const int64_t v = d.At(r.batch);
    if (v < 0 || v > limits.max_dim) return NodeError(g, i, "dimension " + Str(v) + " at batch size " + Str(r.batch) + " is out of range");
    declared.push_back(v);
  }
  int64_t numel = 0;
  if (!CheckedProduct(declared, limits.max_elements, &numel))
    return NodeError(g, i, "shape " + ShapeToString(declared) + " has too many elements");
  for (const DimRange& range : n.ranges) rn.ranges.push_back({range.begin.At(r.batch), range.end.At(r.batch)});
  if (IsLeaf(n)) {
    Shape want;
    DType dtype;
    if (n.leaf == LeafKind::kInput) {
      const IrInput& in = g.inputs[n.leaf_index];
      want.push_back(r.batch);
      want.insert(want.end(), in.sample_shape.begin(), in.sample_shape.end());
      dtype = in.dtype;
    } else {
      const auto& list = n.leaf == LeafKind::kParameter ? g.parameters : n.leaf == LeafKind::kState ? g.state : g.constants;
      want = list[n.leaf_index].shape;
      dtype = list[n.leaf_index].dtype;
    }
    if (want != declared || dtype != n.dtype)
      return NodeError(g, i, "declared " + std::string(Name(n.dtype)) + ShapeToString(declared) + " but the leaf is " +
                                 Name(dtype) + ShapeToString(want));
    rn.shape = declared;
    return Status::Ok();
  }
  Ctx c{g, r, i, n};
  PB_RETURN_IF_ERROR(CheckDTypes(c));
  PB_ASSIGN_OR_RETURN(Shape inferred, InferShape(c, declared, &rn.ranges));
  if (inferred != declared)
    return NodeError(g, i, "declared shape " + ShapeToString(declared) + " but the op gives " + ShapeToString(inferred));
  if (n.op == Op::kConst) {
    rn.value = n.value.At(r.batch);
    if (std::isnan(n.value.den_fixed) || (n.value.den_fixed == 0 && n.value.den_per_sample == 0))
      return NodeError(g, i, "constant with a zero denominator");
    if (!IsFloat(n.dtype) && std::isfinite(rn.value)) rn.value = n.dtype == DType::kBool ? (rn.value != 0) : std::trunc(rn.value);
    if (!IsFloat(n.dtype) && !std::isfinite(rn.value)) return NodeError(g, i, "non-finite value for an integer constant");
  }
  rn.shape = std::move(declared);
  return Status::Ok();
}

}  // namespace

Status CheckStructure(const GraphIr& g, const GraphLimits& limits) {
  if (g.version != kGraphVersion)
    return InvalidArgument("graph: version " + Str(g.version) + " is not supported (this build reads version " + Str(kGraphVersion) + ")");
  if (g.nodes.empty()) return InvalidArgument("graph: no nodes");
  if (static_cast<int64_t>(g.nodes.size()) > limits.max_nodes)
    return InvalidArgument("graph: " + Str(g.nodes.size()) + " nodes (at most " + Str(limits.max_nodes) + ")");
  PB_RETURN_IF_ERROR(CheckInputs(g, limits));
  PB_RETURN_IF_ERROR(CheckTensors(g, limits));
  for (size_t i = 0; i < g.nodes.size(); ++i) PB_RETURN_IF_ERROR(CheckNodeStructure(g, i, limits));
  PB_RETURN_IF_ERROR(CheckDepth(g, limits));
  return CheckOutputs(g);
}

StatusOr<ResolvedGraph> Resolve(const GraphIr& g, int64_t batch, const GraphLimits& limits) {
  if (batch < 1 || batch > limits.max_batch)
    return InvalidArgument("graph: batch size " + Str(batch) + " is out of range [1, " + Str(limits.max_batch) + "]");
  ResolvedGraph r;
  r.batch = batch;
  r.nodes.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) PB_RETURN_IF_ERROR(ResolveNode(g, r, i, limits));
  for (const IrTensor& s : g.state) {
    if (s.update < 0) continue;
    const IrNode& u = g.nodes[s.update];
    if (r.nodes[s.update].shape != s.shape || u.dtype != s.dtype)
      return InvalidArgument("graph state '" + s.name + "': update " + NodeLabel(g, s.update) + " is " + Name(u.dtype) +
                             ShapeToString(r.nodes[s.update].shape) + ", the state is " + Name(s.dtype) + ShapeToString(s.shape));
  }
  return r;
}

Status Validate(const GraphIr& g, const GraphLimits& limits) {
  PB_RETURN_IF_ERROR(CheckStructure(g, limits));
  for (int64_t batch : {1, 2}) PB_RETURN_IF_ERROR(Resolve(g, batch, limits).status());
  return Status::Ok();
}

}  // namespace petabox::graph
