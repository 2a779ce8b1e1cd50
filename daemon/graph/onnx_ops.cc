// ONNX operators composed from the engine's primitives (elementwise activations,
// comparisons and logic, reductions, casts, slicing, normalization), so autograd
// differentiates them like any frontend graph. The interpreter's own handlers
// (onnx_interpreter.cc) cover the operators that touch its state (shape arithmetic,
// BatchNormalization's running statistics).
#include <algorithm>
#include <cmath>

#include "daemon/graph/onnx_interpreter.h"

namespace petabox::graph::onnx_internal {
namespace {

using Outs = StatusOr<std::vector<Tensor>>;

Outs One(Tensor t) { return std::vector<Tensor>{std::move(t)}; }

Tensor Like(const Tensor& x, double v) { return Tensor::Full({}, v, x.dtype(), x.device()); }

// ---- elementwise

using UnaryFn = Tensor (*)(const onnx::NodeProto& n, const Tensor& x);

const std::map<std::string, UnaryFn>& Unaries() {
  static const auto* table = new std::map<std::string, UnaryFn>{
      {"Exp", [](const onnx::NodeProto&, const Tensor& x) { return x.Exp(); }},
      {"Log", [](const onnx::NodeProto&, const Tensor& x) { return x.Log(); }},
      {"Sqrt", [](const onnx::NodeProto&, const Tensor& x) { return x.Sqrt(); }},
      {"Abs", [](const onnx::NodeProto&, const Tensor& x) { return x.Abs(); }},
      {"Neg", [](const onnx::NodeProto&, const Tensor& x) { return x.Neg(); }},
      {"Reciprocal", [](const onnx::NodeProto&, const Tensor& x) { return x.Reciprocal(); }},
      {"Sin", [](const onnx::NodeProto&, const Tensor& x) { return x.Sin(); }},
      {"Cos", [](const onnx::NodeProto&, const Tensor& x) { return x.Cos(); }},
      {"Not", [](const onnx::NodeProto&, const Tensor& x) { return x.LogicalNot(); }},
      {"Softplus", [](const onnx::NodeProto&, const Tensor& x) { return x.Exp().Add(1.0).Log(); }},
      {"Softsign", [](const onnx::NodeProto&, const Tensor& x) { return x.Div(x.Abs().Add(1.0)); }},
      {"Sign", [](const onnx::NodeProto&, const Tensor& x) {
         return x.Gt(Like(x, 0)).Cast(x.dtype()).Sub(x.Lt(Like(x, 0)).Cast(x.dtype()));
       }},
      {"LeakyRelu", [](const onnx::NodeProto& n, const Tensor& x) {
         return Tensor::Where(x.Lt(0.0), x.Mul(FloatAttr(n, "alpha", 0.01)), x);
       }},
      {"Elu", [](const onnx::NodeProto& n, const Tensor& x) {
         return Tensor::Where(x.Lt(0.0), x.Exp().Sub(1.0).Mul(FloatAttr(n, "alpha", 1.0)), x);
       }},
      {"Celu", [](const onnx::NodeProto& n, const Tensor& x) {
         const double alpha = FloatAttr(n, "alpha", 1.0);
         return Tensor::Where(x.Lt(0.0), x.Div(alpha).Exp().Sub(1.0).Mul(alpha), x);
       }},
      {"Selu", [](const onnx::NodeProto& n, const Tensor& x) {
         const double alpha = FloatAttr(n, "alpha", 1.67326319217681884765625);
         const double gamma = FloatAttr(n, "gamma", 1.05070102214813232421875);
         return Tensor::Where(x.Gt(0.0), x, x.Exp().Sub(1.0).Mul(alpha)).Mul(gamma);
       }},
      {"ThresholdedRelu", [](const onnx::NodeProto& n, const Tensor& x) {
         return Tensor::Where(x.Gt(FloatAttr(n, "alpha", 1.0)), x, Like(x, 0));
       }},
      {"HardSigmoid", [](const onnx::NodeProto& n, const Tensor& x) {
         return x.Mul(FloatAttr(n, "alpha", 0.2)).Add(FloatAttr(n, "beta", 0.5)).Clip(0, 1);
       }},
      {"HardSwish", [](const onnx::NodeProto&, const Tensor& x) { return x.Mul(x.Div(6.0).Add(0.5).Clip(0, 1)); }},
  };
  return *table;
}

Outs UnaryOp(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  return One(Unaries().at(n.op_type())(n, x));
}

using BinaryFn = Tensor (*)(const Tensor& a, const Tensor& b);

const std::map<std::string, BinaryFn>& Binaries() {
  static const auto* table = new std::map<std::string, BinaryFn>{
      {"Less", [](const Tensor& a, const Tensor& b) { return a.Lt(b); }},
      {"LessOrEqual", [](const Tensor& a, const Tensor& b) { return a.Le(b); }},
      {"Greater", [](const Tensor& a, const Tensor& b) { return a.Gt(b); }},
      {"GreaterOrEqual", [](const Tensor& a, const Tensor& b) { return a.Ge(b); }},
      {"Equal", [](const Tensor& a, const Tensor& b) { return a.Eq(b); }},
      {"And", [](const Tensor& a, const Tensor& b) { return Tensor::Where(a, b, a); }},
      {"Or", [](const Tensor& a, const Tensor& b) { return Tensor::Where(a, a, b); }},
      {"Xor", [](const Tensor& a, const Tensor& b) { return a.Ne(b); }},
      {"PRelu", [](const Tensor& a, const Tensor& b) { return Tensor::Where(a.Lt(Like(a, 0)), a.Mul(b), a); }},
      // ONNX gives the base's type (an integer base with a float exponent stays integer).
      {"Pow", [](const Tensor& a, const Tensor& b) { return a.Pow(b).Cast(a.dtype()); }},
  };
  return *table;
}

Outs BinaryOp(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor a, in.T(n, 0));
  PB_ASSIGN_OR_RETURN(Tensor b, in.T(n, 1));
  return One(Binaries().at(n.op_type())(a, b));
}

// Max, Min, Sum, Mean of any number of inputs, broadcast.
Outs Variadic(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor acc, in.T(n, 0));
  const std::string& op = n.op_type();
  for (int i = 1; i < n.input_size(); ++i) {
    PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, i));
    acc = op == "Max" ? acc.Maximum(x) : op == "Min" ? acc.Minimum(x) : acc.Add(x);
  }
  return One(op == "Mean" ? acc.Div(static_cast<double>(n.input_size())) : acc);
}

Outs Where(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor c, in.T(n, 0));
  PB_ASSIGN_OR_RETURN(Tensor a, in.T(n, 1));
  PB_ASSIGN_OR_RETURN(Tensor b, in.T(n, 2));
  return One(Tensor::Where(c.Cast(DType::kBool), a, b));
}

Outs Clip(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  if (in.opset() < 11) return One(x.Clip(FloatAttr(n, "min", -INFINITY), FloatAttr(n, "max", INFINITY)));
  if (in.Has(n, 1)) {
    PB_ASSIGN_OR_RETURN(Tensor lo, in.T(n, 1));
    x = x.Maximum(lo.Cast(x.dtype()));
  }
  if (in.Has(n, 2)) {
    PB_ASSIGN_OR_RETURN(Tensor hi, in.T(n, 2));
    x = x.Minimum(hi.Cast(x.dtype()));
  }
  return One(x);
}

Outs Cast(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  StatusOr<DType> to = EngineDType(static_cast<int>(IntAttr(n, "to", 0)));
  if (!to.ok()) return InvalidArgument(Describe(n) + ": " + to.status().message());
  return One(x.Cast(*to));
}

// ---- reductions

StatusOr<std::vector<int>> Axes(const onnx::NodeProto& n, const NodeInputs& in, const Tensor& x, bool* noop) {
  std::vector<int64_t> axes = IntsAttr(n, "axes");
  if (in.Has(n, 1)) {
    PB_ASSIGN_OR_RETURN(axes, in.Ints(n, 1));
  }
  *noop = axes.empty() && IntAttr(n, "noop_with_empty_axes", 0) != 0;
  std::vector<int> out;
  for (int64_t a : axes) {
    if (a < -x.ndim() || a >= x.ndim()) return InvalidArgument(Describe(n) + ": axis " + std::to_string(a) + " out of range");
    out.push_back(static_cast<int>(a < 0 ? a + x.ndim() : a));
  }
  if (axes.empty())
    for (int a = 0; a < x.ndim(); ++a) out.push_back(a);
  return out;
}

Outs Reduce(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  bool noop = false;
  PB_ASSIGN_OR_RETURN(std::vector<int> axes, Axes(n, in, x, &noop));
  if (noop) return One(x);
  const bool keep = IntAttr(n, "keepdims", 1) != 0;
  const std::string& op = n.op_type();
  if (op == "ReduceMean") return One(x.Mean(axes, keep));
  if (op == "ReduceSum") return One(x.Sum(axes, keep));
  if (op == "ReduceMax") return One(x.Max(axes, keep));
  if (op == "ReduceMin") return One(x.Min(axes, keep));
  if (op == "ReduceSumSquare") return One(x.Mul(x).Sum(axes, keep));
  if (op == "ReduceL1") return One(x.Abs().Sum(axes, keep));
  if (op == "ReduceL2") return One(x.Mul(x).Sum(axes, keep).Sqrt());
  if (op == "ReduceLogSum") return One(x.Sum(axes, keep).Log());
  if (op == "ReduceProd") {
    // exp(sum log|x|) (a zero gives exp(-inf) = 0), with the sign of the negatives' count.
    if (x.dtype() != DType::kFloat32) return InvalidArgument(Describe(n) + ": ReduceProd takes float32 only");
    Tensor negatives = x.Lt(0.0).Cast(DType::kFloat32).Sum(axes, keep);
    return One(x.Abs().Log().Sum(axes, keep).Exp().Mul(negatives.Mul(M_PI).Cos()));
  }
  // ReduceLogSumExp, shifted by the maximum so that exp does not overflow.
  Tensor m = x.Max(axes, true).Detach();
  Tensor y = x.Sub(m).Exp().Sum(axes, true).Log().Add(m);
  if (!keep)
    for (auto a = axes.rbegin(); a != axes.rend(); ++a) y = y.Squeeze(*a);
  return One(y);
}

Outs ArgExtreme(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  int64_t axis = IntAttr(n, "axis", 0);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
  const bool keep = IntAttr(n, "keepdims", 1) != 0;
  const Tensor score = n.op_type() == "ArgMax" ? x : x.Neg();
  if (IntAttr(n, "select_last_index", 0) == 0) return One(score.Argmax(static_cast<int>(axis), keep).Cast(DType::kInt64));
  // The last extreme is the first one of the flipped axis, counted from the end.
  Tensor first = score.Flip({static_cast<int>(axis)}).Argmax(static_cast<int>(axis), keep).Cast(DType::kInt64);
  return One(Tensor::Full({}, static_cast<double>(x.shape()[axis] - 1), DType::kInt64, x.device()).Sub(first));
}

Outs SoftmaxOp(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  return One(SoftmaxOf(n, x, in.opset(), n.op_type() == "LogSoftmax"));
}

// ---- shapes

Outs Squeeze(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  std::vector<int64_t> axes = IntsAttr(n, "axes");
  if (in.Has(n, 1)) {
    PB_ASSIGN_OR_RETURN(axes, in.Ints(n, 1));
  }
  std::vector<bool> drop(x.ndim(), axes.empty());
  for (int64_t a : axes) {
    if (a < -x.ndim() || a >= x.ndim()) return InvalidArgument(Describe(n) + ": axis " + std::to_string(a) + " out of range");
    drop[a < 0 ? a + x.ndim() : a] = true;
  }
  Shape out;
  for (int a = 0; a < x.ndim(); ++a) {
    if (drop[a] && x.shape()[a] != 1 && !axes.empty())
      return InvalidArgument(Describe(n) + ": axis " + std::to_string(a) + " is not of size 1");
    if (!drop[a] || x.shape()[a] != 1) out.push_back(x.shape()[a]);
  }
  return One(x.Reshape(out));
}

Outs Slice(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  std::vector<int64_t> starts = IntsAttr(n, "starts"), ends = IntsAttr(n, "ends"), axes = IntsAttr(n, "axes"), steps;
  if (in.opset() >= 10) {
    PB_ASSIGN_OR_RETURN(starts, in.Ints(n, 1));
    PB_ASSIGN_OR_RETURN(ends, in.Ints(n, 2));
    if (in.Has(n, 3)) {
      PB_ASSIGN_OR_RETURN(axes, in.Ints(n, 3));
    }
    if (in.Has(n, 4)) {
      PB_ASSIGN_OR_RETURN(steps, in.Ints(n, 4));
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return InvalidArgument(Describe(n) + ": starts, ends, axes and steps differ in length");
  for (size_t i = 0; i < starts.size(); ++i) {
    if (axes[i] < -x.ndim() || axes[i] >= x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
    const int64_t dim = x.shape()[axes[i] < 0 ? axes[i] + x.ndim() : axes[i]];
    // ONNX's "to the end" sentinels (INT64_MIN/MAX) clamp like any out-of-range index.
    const int64_t start = std::clamp<int64_t>(starts[i], -dim - 1, dim + 1);
    const int64_t end = std::clamp<int64_t>(ends[i], -dim - 1, dim + 1);
    x = x.Slice(static_cast<int>(axes[i]), start, end, steps[i]);
  }
  return One(x);
}

Outs Expand(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  PB_ASSIGN_OR_RETURN(std::vector<int64_t> shape, in.Ints(n, 1));
  // Both ways: the result has the broadcast of the two shapes.
  const size_t rank = std::max<size_t>(shape.size(), x.ndim());
  Shape out(rank, 1), xs(rank - x.ndim(), 1);
  xs.insert(xs.end(), x.shape().begin(), x.shape().end());
  shape.insert(shape.begin(), rank - shape.size(), 1);
  for (size_t a = 0; a < rank; ++a) out[a] = xs[a] == 1 ? shape[a] : xs[a];
  return One(x.Reshape(xs).Expand(out));
}

Outs LayerNorm(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  PB_ASSIGN_OR_RETURN(Tensor scale, in.T(n, 1));
  int64_t axis = IntAttr(n, "axis", -1);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
  std::vector<int> axes;
  for (int a = static_cast<int>(axis); a < x.ndim(); ++a) axes.push_back(a);
  Tensor mean = x.Mean(axes, true);
  Tensor inv_std = x.Var(axes, true, 0).Add(FloatAttr(n, "epsilon", 1e-5)).Rsqrt();
  Tensor y = x.Sub(mean).Mul(inv_std).Mul(scale);
  if (in.Has(n, 2)) {
    PB_ASSIGN_OR_RETURN(Tensor bias, in.T(n, 2));
    y = y.Add(bias);
  }
  return std::vector<Tensor>{y, mean, inv_std};
}

// ---- indexing and masks

Outs Split(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  int64_t axis = IntAttr(n, "axis", 0);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
  std::vector<int64_t> sizes = IntsAttr(n, "split");
  if (in.Has(n, 1)) {
    PB_ASSIGN_OR_RETURN(sizes, in.Ints(n, 1));
  }
  const int64_t dim = x.shape()[axis], parts = n.output_size();
  if (sizes.empty()) {
    if (dim % parts != 0) return InvalidArgument(Describe(n) + ": axis of " + std::to_string(dim) + " does not split evenly");
    sizes.assign(parts, dim / parts);
  }
  std::vector<Tensor> outs;
  int64_t at = 0;
  for (int64_t size : sizes) {
    outs.push_back(x.Slice(static_cast<int>(axis), at, at + size));
    at += size;
  }
  if (at != dim || static_cast<int64_t>(sizes.size()) != parts)
    return InvalidArgument(Describe(n) + ": split sizes do not match the axis or the outputs");
  return outs;
}

Outs Trilu(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  if (x.ndim() < 2) return InvalidArgument(Describe(n) + ": input must have 2 or more dimensions");
  int64_t k = 0;
  if (in.Has(n, 1)) {
    PB_ASSIGN_OR_RETURN(std::vector<int64_t> ks, in.Ints(n, 1));
    if (ks.size() != 1) return InvalidArgument(Describe(n) + ": k must be one value");
    k = ks[0];
  }
  const int64_t rows = x.shape()[x.ndim() - 2], cols = x.shape()[x.ndim() - 1];
  Tensor r = Tensor::Arange(0, static_cast<double>(rows), 1, DType::kInt64, x.device()).Reshape({rows, 1});
  Tensor c = Tensor::Arange(0, static_cast<double>(cols), 1, DType::kInt64, x.device()).Reshape({1, cols});
  Tensor diagonal = c.Sub(r);  // j - i
  Tensor kt = Tensor::Full({}, static_cast<double>(k), DType::kInt64, x.device());
  Tensor keep = IntAttr(n, "upper", 1) != 0 ? diagonal.Ge(kt) : diagonal.Le(kt);
  return One(Tensor::Where(keep, x, Like(x, 0)));
}

Outs Hardmax(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  if (in.opset() < 13) return InvalidArgument(Describe(n) + ": Hardmax before opset 13 is not supported");
  int64_t axis = IntAttr(n, "axis", -1);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
  Shape at(x.ndim(), 1);
  at[axis] = x.shape()[axis];
  Tensor index = Tensor::Arange(0, static_cast<double>(at[axis]), 1, DType::kInt32, x.device()).Reshape(at);
  return One(index.Eq(x.Argmax(static_cast<int>(axis), true).Cast(DType::kInt32)).Cast(x.dtype()));
}

Outs ConstantOfShape(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(std::vector<int64_t> shape, in.Ints(n, 0));
  PB_ASSIGN_OR_RETURN(Tensor where, in.T(n, 0));  // for its device
  HostTensor fill;
  fill.values = {0.0};
  if (const onnx::AttributeProto* a = FindAttr(n, "value")) {
    PB_ASSIGN_OR_RETURN(fill, ReadTensor(a->t()));
    if ((fill.IsInts() ? fill.ints.size() : fill.values.size()) != 1)
      return InvalidArgument(Describe(n) + ": value must hold one element");
  }
  for (int64_t d : shape)
    if (d < 0) return InvalidArgument(Describe(n) + ": negative dimension");
  const double v = fill.IsInts() ? static_cast<double>(fill.ints[0]) : fill.values[0];
  return One(Tensor::Full(shape, v, fill.dtype, where.device()));
}

Outs Classify(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  if (n.op_type() == "IsNaN") return One(x.Ne(x));
  Tensor pos = x.Eq(Like(x, INFINITY)), neg = x.Eq(Like(x, -INFINITY));
  const bool want_pos = IntAttr(n, "detect_positive", 1) != 0, want_neg = IntAttr(n, "detect_negative", 1) != 0;
  if (want_pos && want_neg) return One(Tensor::Where(pos, pos, neg));
  return One(want_pos ? pos : want_neg ? neg : Tensor::Full(x.shape(), 0, DType::kBool, x.device()));
}

Outs Size(const onnx::NodeProto& n, const NodeInputs& in) {
  PB_ASSIGN_OR_RETURN(Tensor x, in.T(n, 0));
  return One(Tensor::Full({}, static_cast<double>(x.numel()), DType::kInt64, x.device()));
}

}  // namespace

Tensor GatherTensor(const Tensor& data, const std::vector<int64_t>& indices, const Shape& index_shape, int64_t axis) {
  if (!data.ok()) return data;
  if (axis < 0) axis += data.ndim();
  if (axis < 0 || axis >= data.ndim()) return Tensor::Error(InvalidArgument("axis out of range"));
  const int64_t dim = data.shape()[axis];
  std::vector<Tensor> rows;
  for (int64_t i : indices) {
    if (i < -dim || i >= dim) return Tensor::Error(InvalidArgument("index " + std::to_string(i) + " out of range"));
    rows.push_back(data.Slice(static_cast<int>(axis), i < 0 ? i + dim : i, (i < 0 ? i + dim : i) + 1));
  }
  Shape out(data.shape().begin(), data.shape().begin() + axis);
  out.insert(out.end(), index_shape.begin(), index_shape.end());
  out.insert(out.end(), data.shape().begin() + axis + 1, data.shape().end());
  if (rows.empty()) return Tensor::Zeros(out, data.dtype(), data.device());
  return Tensor::Cat(rows, static_cast<int>(axis)).Reshape(out);
}

Tensor SoftmaxOf(const onnx::NodeProto& n, const Tensor& x, int64_t opset, bool log) {
  int64_t axis = IntAttr(n, "axis", opset >= 13 ? -1 : 1);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis >= std::max(x.ndim(), 1)) return Tensor::Error(InvalidArgument("axis out of range"));
  if (opset >= 13 || axis == x.ndim() - 1) return log ? x.LogSoftmax(static_cast<int>(axis)) : x.Softmax(static_cast<int>(axis));
  // Before opset 13 the input is seen as 2-D: the axes before `axis`, then all the others.
  int64_t outer = 1;
  for (int64_t a = 0; a < axis; ++a) outer *= x.shape()[a];
  Tensor flat = x.Reshape({outer, outer ? x.numel() / outer : 0});
  return (log ? flat.LogSoftmax(1) : flat.Softmax(1)).Reshape(x.shape());
}

const std::map<std::string, OperatorFn>& ComposedOperators() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, OperatorFn>{
        {"Max", Variadic}, {"Min", Variadic}, {"Sum", Variadic}, {"Mean", Variadic},
        {"Where", Where}, {"Clip", Clip}, {"Cast", Cast}, {"ArgMax", ArgExtreme}, {"ArgMin", ArgExtreme},
        {"LogSoftmax", SoftmaxOp}, {"Squeeze", Squeeze}, {"Slice", Slice}, {"Expand", Expand},
        {"LayerNormalization", LayerNorm}, {"Split", Split}, {"Trilu", Trilu}, {"Hardmax", Hardmax},
        {"ConstantOfShape", ConstantOfShape}, {"IsInf", Classify}, {"IsNaN", Classify}, {"Size", Size},
    };
    for (const auto& [name, fn] : Unaries()) (*t)[name] = UnaryOp;
    for (const auto& [name, fn] : Binaries()) (*t)[name] = BinaryOp;
    for (const char* r : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL1", "ReduceL2",
                          "ReduceLogSum", "ReduceLogSumExp", "ReduceProd"})
      (*t)[r] = Reduce;
    return t;
  }();
  return *table;
}

}  // namespace petabox::graph::onnx_internal
