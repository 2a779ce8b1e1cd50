#include "daemon/graph/onnx_interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>

namespace petabox::graph::onnx_internal {

std::string Describe(const onnx::NodeProto& n) {
  return "ONNX node '" + n.name() + "' (" + n.op_type() + ")";
}

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t IntAttr(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->i() : def;
}
double FloatAttr(const onnx::NodeProto& n, const std::string& name, double def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->f() : def;
}
std::string StringAttr(const onnx::NodeProto& n, const std::string& name, const std::string& def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->s() : def;
}
std::vector<int64_t> IntsAttr(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
}

namespace {

using Pair = std::pair<int64_t, int64_t>;

// One interpretation of the ONNX graph on a batch (evaluation or training mode).
class Interpreter : public NodeInputs {
 public:
  Interpreter(const Model& model, bool training) : model_(model), training_(training) {}

  StatusOr<Values> Run(const Values& inputs, const std::vector<std::string>& outputs) {
    values_ = model_.initializers;
    for (const auto& [name, v] : inputs) values_[name] = v;
    for (const onnx::NodeProto& n : model_.graph->node()) {
      current_ = &n;
      PB_RETURN_IF_ERROR(RunNode(n));
    }
    current_ = nullptr;
    Values out;
    for (const std::string& name : outputs) {
      auto it = values_.find(name);
      if (it == values_.end()) return InvalidArgument("ONNX output '" + name + "' is not computed");
      out[name] = it->second;
    }
    return out;
  }
  const onnx::NodeProto* current() const { return current_; }
  friend std::vector<std::string> onnx_internal::OperatorNames();

 private:
  using Handler = Status (Interpreter::*)(const onnx::NodeProto&);

  StatusOr<Value> In(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) return InvalidArgument(Describe(n) + ": input " + std::to_string(i) + " is missing");
    auto it = values_.find(n.input(i));
    if (it == values_.end()) return InvalidArgument(Describe(n) + ": input '" + n.input(i) + "' is not defined before it");
    return it->second;
  }
  int64_t opset() const override { return model_.opset; }
  StatusOr<Tensor> T(const onnx::NodeProto& n, int i) const override {
    PB_ASSIGN_OR_RETURN(Value v, In(n, i));
    if (v.is_ints) return IntsTensor(v, model_.device);
    if (!v.tensor.ok()) return v.tensor.status();
    return v.tensor;
  }
  StatusOr<std::vector<int64_t>> Ints(const onnx::NodeProto& n, int i) const override {
    PB_ASSIGN_OR_RETURN(Value v, In(n, i));
    if (!v.is_ints) return InvalidArgument(Describe(n) + ": input '" + n.input(i) + "' must be constant integers");
    return v.ints;
  }
  bool Has(const onnx::NodeProto& n, int i) const override { return i < n.input_size() && !n.input(i).empty(); }
  Status Out(const onnx::NodeProto& n, Tensor t) {
    if (!t.ok()) return InvalidArgument(Describe(n) + ": " + t.status().message());
    values_[n.output(0)].tensor = std::move(t);
    return Status::Ok();
  }
  Status OutInts(const onnx::NodeProto& n, std::vector<int64_t> ints, bool scalar = false) {
    Value v;
    v.is_ints = true, v.ints = std::move(ints), v.scalar = scalar;
    values_[n.output(0)] = std::move(v);
    return Status::Ok();
  }

  // The operators, by ONNX name.
  static const std::map<std::string, Handler>& Handlers() {
    static const auto* handlers = new std::map<std::string, Handler>{
        {"Conv", &Interpreter::Conv}, {"Gemm", &Interpreter::Gemm}, {"MatMul", &Interpreter::MatMul},
        {"Add", &Interpreter::Binary}, {"Sub", &Interpreter::Binary}, {"Mul", &Interpreter::Binary},
        {"Div", &Interpreter::Binary}, {"Relu", &Interpreter::Unary}, {"Sigmoid", &Interpreter::Unary},
        {"Tanh", &Interpreter::Unary}, {"Erf", &Interpreter::Unary}, {"Gelu", &Interpreter::Gelu},
        {"BatchNormalization", &Interpreter::BatchNorm}, {"MaxPool", &Interpreter::Pool},
        {"AveragePool", &Interpreter::Pool}, {"GlobalAveragePool", &Interpreter::GlobalAveragePool},
        {"Flatten", &Interpreter::Flatten}, {"Reshape", &Interpreter::Reshape},
        {"Transpose", &Interpreter::Transpose}, {"Concat", &Interpreter::Concat},
        {"Softmax", &Interpreter::Softmax}, {"Dropout", &Interpreter::Identity},
        {"Identity", &Interpreter::Identity}, {"Constant", &Interpreter::Constant}, {"Shape", &Interpreter::ShapeOf},
        {"Gather", &Interpreter::Gather}, {"Unsqueeze", &Interpreter::Unsqueeze}, {"Pad", &Interpreter::PadOp},
    };
    return *handlers;
  }

  Status RunNode(const onnx::NodeProto& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return InvalidArgument(Describe(n) + ": operator domain '" + n.domain() + "' is not supported");
    if (n.output_size() < 1) return InvalidArgument(Describe(n) + ": no output");
    if (auto it = Handlers().find(n.op_type()); it != Handlers().end()) return (this->*(it->second))(n);
    auto composed = ComposedOperators().find(n.op_type());
    if (composed == ComposedOperators().end()) {
      std::string names;
      for (const std::string& name : OperatorNames()) names += (names.empty() ? "" : ", ") + name;
      return InvalidArgument(Describe(n) + ": operator " + n.op_type() + " is not supported (supported: " + names + ")");
    }
    PB_ASSIGN_OR_RETURN(std::vector<Tensor> outs, composed->second(n, *this));
    for (size_t i = 0; i < outs.size() && static_cast<int>(i) < n.output_size(); ++i) {
      if (n.output(i).empty()) continue;
      if (!outs[i].ok()) return InvalidArgument(Describe(n) + ": " + outs[i].status().message());
      values_[n.output(i)] = Value{};
      values_[n.output(i)].tensor = outs[i];
    }
    return Status::Ok();
  }

  // pads [top, left, bottom, right] -> symmetric padding, or an explicit pad of x first.
  // [top, left, bottom, right]: the pads attribute, or what auto_pad SAME_UPPER/SAME_LOWER
  // implies (the output size is ceil(input / stride); the odd pad goes last / first).
  StatusOr<std::vector<int64_t>> Pads(const onnx::NodeProto& n, const Tensor& x, Pair kernel) const {
    const std::string mode = StringAttr(n, "auto_pad", "NOTSET");
    if (mode == "VALID") return std::vector<int64_t>{0, 0, 0, 0};
    if (mode == "NOTSET") return IntsAttr(n, "pads", {0, 0, 0, 0});
    if (mode != "SAME_UPPER" && mode != "SAME_LOWER") return InvalidArgument(Describe(n) + ": auto_pad " + mode + " is not supported");
    PB_ASSIGN_OR_RETURN(Pair stride, TwoInts(n, "strides", 1));
    PB_ASSIGN_OR_RETURN(Pair dilation, TwoInts(n, "dilations", 1));
    std::vector<int64_t> p(4);
    const int64_t k[2] = {kernel.first, kernel.second}, st[2] = {stride.first, stride.second};
    const int64_t dl[2] = {dilation.first, dilation.second};
    for (int a = 0; a < 2; ++a) {
      const int64_t in = x.shape()[2 + a], out = st[a] > 0 ? (in + st[a] - 1) / st[a] : in;
      const int64_t total = std::max<int64_t>(0, (out - 1) * st[a] + (k[a] - 1) * dl[a] + 1 - in);
      p[a] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
      p[a + 2] = total - p[a];
    }
    return p;
  }

  StatusOr<Pair> Padding(const onnx::NodeProto& n, Tensor* x, double fill, Pair kernel) const {
    PB_ASSIGN_OR_RETURN(std::vector<int64_t> p, Pads(n, *x, kernel));
    if (p.size() != 4) return InvalidArgument(Describe(n) + ": only 2-D operators are supported (pads of 4 values)");
    for (int64_t v : p)
      if (v < 0) return InvalidArgument(Describe(n) + ": negative pads");
    if (p[0] == p[2] && p[1] == p[3]) return Pair{p[0], p[1]};
    *x = x->Pad({{0, 0}, {0, 0}, {p[0], p[2]}, {p[1], p[3]}}, fill);
    return Pair{0, 0};
  }
  StatusOr<Pair> TwoInts(const onnx::NodeProto& n, const std::string& name, int64_t def) const {
    std::vector<int64_t> v = IntsAttr(n, name, {def, def});
    if (v.size() != 2) return InvalidArgument(Describe(n) + ": " + name + " must have 2 values (2-D operators only)");
    return Pair{v[0], v[1]};
  }

  Status Conv(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    PB_ASSIGN_OR_RETURN(Tensor w, T(n, 1));
    Tensor b;
    if (Has(n, 2)) {
      PB_ASSIGN_OR_RETURN(b, T(n, 2));
    }
    if (x.ndim() != 4) return InvalidArgument(Describe(n) + ": only 2-D convolutions (4-D inputs) are supported");
    PB_ASSIGN_OR_RETURN(Pair stride, TwoInts(n, "strides", 1));
    PB_ASSIGN_OR_RETURN(Pair dilation, TwoInts(n, "dilations", 1));
    if (w.ndim() != 4) return InvalidArgument(Describe(n) + ": the weight must be 4-D");
    PB_ASSIGN_OR_RETURN(Pair padding, Padding(n, &x, 0, Pair{w.shape()[2], w.shape()[3]}));
    return Out(n, x.Conv2d(w, b, stride, padding, dilation, IntAttr(n, "group", 1)));
  }

  Status Gemm(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor a, T(n, 0));
    PB_ASSIGN_OR_RETURN(Tensor b, T(n, 1));
    if (IntAttr(n, "transA", 0)) a = a.Transpose();
    if (IntAttr(n, "transB", 0)) b = b.Transpose();
    Tensor y = a.Matmul(b);
    const double alpha = FloatAttr(n, "alpha", 1), beta = FloatAttr(n, "beta", 1);
    if (alpha != 1) y = y.Mul(alpha);
    if (Has(n, 2)) {
      PB_ASSIGN_OR_RETURN(Tensor c, T(n, 2));
      y = y.Add(beta == 1 ? c : c.Mul(beta));
    }
    return Out(n, y);
  }

  Status MatMul(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor a, T(n, 0));
    PB_ASSIGN_OR_RETURN(Tensor b, T(n, 1));
    return Out(n, a.Matmul(b));
  }

  Status Binary(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor a, T(n, 0));
    PB_ASSIGN_OR_RETURN(Tensor b, T(n, 1));
    const std::string& op = n.op_type();
    return Out(n, op == "Add" ? a.Add(b) : op == "Sub" ? a.Sub(b) : op == "Mul" ? a.Mul(b) : a.Div(b));
  }

  // erf by Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7), from primitives.
  static Tensor Erf(const Tensor& x) {
    Tensor ax = x.Abs();
    Tensor t = ax.Mul(0.3275911).Add(1.0).Reciprocal();
    Tensor poly = t.Mul(1.061405429).Add(-1.453152027).Mul(t).Add(1.421413741).Mul(t).Add(-0.284496736).Mul(t)
                      .Add(0.254829592).Mul(t);
    Tensor y = poly.Mul(ax.Mul(ax).Neg().Exp()).Neg().Add(1.0);
    return Tensor::Where(x.Lt(0.0), y.Neg(), y);
  }

  Status Unary(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    const std::string& op = n.op_type();
    return Out(n, op == "Relu" ? x.Relu() : op == "Sigmoid" ? x.Sigmoid() : op == "Tanh" ? x.Tanh() : Erf(x));
  }

  Status Gelu(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    if (StringAttr(n, "approximate", "none") == "tanh") return Out(n, x.Gelu());
    return Out(n, x.Mul(Erf(x.Mul(M_SQRT1_2)).Add(1.0)).Mul(0.5));
  }

  Status BatchNorm(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    PB_ASSIGN_OR_RETURN(Tensor scale, T(n, 1));
    PB_ASSIGN_OR_RETURN(Tensor bias, T(n, 2));
    PB_ASSIGN_OR_RETURN(Tensor mean, T(n, 3));
    PB_ASSIGN_OR_RETURN(Tensor var, T(n, 4));
    if (IntAttr(n, "training_mode", 0) != 0 || n.output_size() > 1)
      return InvalidArgument(Describe(n) + ": training_mode=1 is not supported (export the model in evaluation mode)");
    if (x.ndim() < 2) return InvalidArgument(Describe(n) + ": input needs a channel axis");
    const double eps = FloatAttr(n, "epsilon", 1e-5), momentum = FloatAttr(n, "momentum", 0.9);
    const int64_t c = x.shape()[1];
    Shape channels(x.ndim(), 1);
    channels[1] = c;
    std::vector<int> axes = {0};
    for (int a = 2; a < x.ndim(); ++a) axes.push_back(a);
    if (training_) {
      const int64_t count = x.numel() / std::max<int64_t>(c, 1);
      if (count < 2) return InvalidArgument(Describe(n) + ": training needs more than 1 value per channel");
      Tensor bmean = x.Mean(axes, true), bvar = x.Var(axes, true, 0);
      // ONNX/PyTorch running statistics: running = running * momentum + batch * (1 - momentum),
      // the variance unbiased.
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      Tensor new_mean = mean.Mul(momentum).Add(bmean.Detach().Reshape({c}).Mul(1 - momentum));
      Tensor new_var = var.Mul(momentum).Add(bvar.Detach().Reshape({c}).Mul((1 - momentum) * unbias));
      if (Tensor r = mean.Assign(new_mean); !r.ok()) return Out(n, r);
      if (Tensor r = var.Assign(new_var); !r.ok()) return Out(n, r);
      mean = bmean, var = bvar;
    } else {
      mean = mean.Reshape(channels), var = var.Reshape(channels);
    }
    Tensor y = x.Sub(mean).Mul(var.Add(eps).Rsqrt()).Mul(scale.Reshape(channels)).Add(bias.Reshape(channels));
    return Out(n, y);
  }

  Status Pool(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    const bool max = n.op_type() == "MaxPool";
    if (x.ndim() != 4) return InvalidArgument(Describe(n) + ": only 2-D pooling (4-D inputs) is supported");
    if (IntAttr(n, "ceil_mode", 0) != 0) return InvalidArgument(Describe(n) + ": ceil_mode=1 is not supported");
    if (n.output_size() > 1 && !n.output(1).empty()) return InvalidArgument(Describe(n) + ": the Indices output is not supported");
    PB_ASSIGN_OR_RETURN(Pair kernel, TwoInts(n, "kernel_shape", 1));
    PB_ASSIGN_OR_RETURN(Pair stride, TwoInts(n, "strides", 1));
    PB_ASSIGN_OR_RETURN(Pair dilation, TwoInts(n, "dilations", 1));
    if (dilation != Pair{1, 1}) return InvalidArgument(Describe(n) + ": dilated pooling is not supported");
    PB_ASSIGN_OR_RETURN(std::vector<int64_t> pads, Pads(n, x, kernel));
    const Tensor unpadded = x;
    PB_ASSIGN_OR_RETURN(Pair padding, Padding(n, &x, max ? -INFINITY : 0, kernel));
    if (max) return Out(n, x.MaxPool2d(kernel, stride, padding));
    const bool padded = pads[0] || pads[1] || pads[2] || pads[3];
    if (!padded || IntAttr(n, "count_include_pad", 0) != 0) return Out(n, x.AvgPool2d(kernel, stride, padding));
    // Padding left out of the count: the window sums divided by the real values' count in
    // each window (the average of a padded tensor of ones).
    Tensor ones = Tensor::Full(unpadded.shape(), 1, unpadded.dtype(), unpadded.device());
    Tensor padded_ones = ones;
    PB_ASSIGN_OR_RETURN(Pair ones_padding, Padding(n, &padded_ones, 0, kernel));
    return Out(n, x.AvgPool2d(kernel, stride, padding).Div(padded_ones.AvgPool2d(kernel, stride, ones_padding)));
  }

  Status GlobalAveragePool(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    if (x.ndim() < 3) return InvalidArgument(Describe(n) + ": input needs spatial axes");
    std::vector<int> axes;
    for (int a = 2; a < x.ndim(); ++a) axes.push_back(a);
    return Out(n, x.Mean(axes, true));
  }

  Status Flatten(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    int64_t axis = IntAttr(n, "axis", 1);
    if (axis < 0) axis += x.ndim();
    if (axis < 0 || axis > x.ndim()) return InvalidArgument(Describe(n) + ": axis out of range");
    int64_t outer = 1;
    for (int64_t a = 0; a < axis; ++a) outer *= x.shape()[a];
    return Out(n, x.Reshape({outer, outer ? x.numel() / outer : 0}));
  }

  Status Reshape(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    PB_ASSIGN_OR_RETURN(std::vector<int64_t> shape, Ints(n, 1));
    if (IntAttr(n, "allowzero", 0) != 0) return InvalidArgument(Describe(n) + ": allowzero=1 is not supported");
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0) {
        if (static_cast<int>(i) >= x.ndim()) return InvalidArgument(Describe(n) + ": a 0 in the shape has no input dimension");
        shape[i] = x.shape()[i];
      }
    }
    return Out(n, x.Reshape(shape));
  }

  Status Transpose(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    std::vector<int64_t> perm = IntsAttr(n, "perm");
    std::vector<int> order;
    if (perm.empty())
      for (int a = x.ndim() - 1; a >= 0; --a) order.push_back(a);
    for (int64_t p : perm) order.push_back(static_cast<int>(p));
    return Out(n, x.Permute(order));
  }

  Status Concat(const onnx::NodeProto& n) {
    const int64_t axis = IntAttr(n, "axis", 0);
    PB_ASSIGN_OR_RETURN(Value first, In(n, 0));
    if (first.is_ints) {
      std::vector<int64_t> all;
      for (int i = 0; i < n.input_size(); ++i) {
        PB_ASSIGN_OR_RETURN(std::vector<int64_t> part, Ints(n, i));
        all.insert(all.end(), part.begin(), part.end());
      }
      return OutInts(n, all);
    }
    std::vector<Tensor> parts;
    for (int i = 0; i < n.input_size(); ++i) {
      PB_ASSIGN_OR_RETURN(Tensor t, T(n, i));
      parts.push_back(t);
    }
    return Out(n, Tensor::Cat(parts, static_cast<int>(axis)));
  }

  Status Softmax(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    return Out(n, SoftmaxOf(n, x, model_.opset, false));
  }

  Status Identity(const onnx::NodeProto& n) {
    if (n.op_type() == "Dropout" && Has(n, 2)) {
      // training_mode: only a constant false is the identity (graphs have no random source).
      PB_ASSIGN_OR_RETURN(Tensor mode, T(n, 2));
      StatusOr<double> on = mode.Item();
      if (!on.ok() || *on != 0) return InvalidArgument(Describe(n) + ": training_mode=true is not supported (no random source)");
    }
    PB_ASSIGN_OR_RETURN(Value v, In(n, 0));
    values_[n.output(0)] = v;
    if (n.op_type() == "Dropout" && n.output_size() > 1 && !n.output(1).empty()) {
      PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));  // the mask keeps everything
      values_[n.output(1)] = Value{};
      values_[n.output(1)].tensor = Tensor::Full(x.shape(), 1, DType::kBool, x.device());
    }
    return Status::Ok();
  }

  // Constant-mode padding; pads = [begin of each axis..., end of each axis...].
  Status PadOp(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    if (StringAttr(n, "mode", "constant") != "constant")
      return InvalidArgument(Describe(n) + ": mode " + StringAttr(n, "mode", "") + " is not supported (constant only)");
    PB_ASSIGN_OR_RETURN(std::vector<int64_t> pads, Ints(n, 1));
    if (static_cast<int>(pads.size()) != 2 * x.ndim()) return InvalidArgument(Describe(n) + ": pads must have 2 values per axis");
    double fill = 0;
    if (Has(n, 2)) {
      PB_ASSIGN_OR_RETURN(Tensor value, T(n, 2));
      PB_ASSIGN_OR_RETURN(fill, value.Item());
    }
    std::vector<Range> ranges;
    for (int a = 0; a < x.ndim(); ++a) {
      if (pads[a] < 0 || pads[a + x.ndim()] < 0) return InvalidArgument(Describe(n) + ": negative pads are not supported");
      ranges.push_back({pads[a], pads[a + x.ndim()]});
    }
    return Out(n, x.Pad(ranges, fill));
  }

  Status Constant(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(HostTensor h, ConstantValue(n));
    values_[n.output(0)] = FromHost(h, model_.device);
    return Status::Ok();
  }

  Status ShapeOf(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Tensor x, T(n, 0));
    // start/end (opset 15) clamp like Python slices.
    const int64_t rank = x.ndim();
    auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    const int64_t start = clamp(IntAttr(n, "start", 0)), end = clamp(IntAttr(n, "end", rank));
    return OutInts(n, std::vector<int64_t>(x.shape().begin() + start, x.shape().begin() + std::max(start, end)));
  }

  Status Gather(const onnx::NodeProto& n) {
    PB_ASSIGN_OR_RETURN(Value data_value, In(n, 0));
    PB_ASSIGN_OR_RETURN(Value indices, In(n, 1));
    if (!indices.is_ints) return InvalidArgument(Describe(n) + ": Gather needs constant indices");
    if (!data_value.is_ints || IntAttr(n, "axis", 0) != 0 || data_value.shape.size() > 1) {
      PB_ASSIGN_OR_RETURN(Tensor data, T(n, 0));
      const Shape index_shape = indices.scalar ? Shape{} : !indices.shape.empty() ? indices.shape
                                                        : Shape{static_cast<int64_t>(indices.ints.size())};
      return Out(n, GatherTensor(data, indices.ints, index_shape, IntAttr(n, "axis", 0)));
    }
    const std::vector<int64_t>& data = data_value.ints;
    std::vector<int64_t> out;
    for (int64_t i : indices.ints) {
      if (i < 0) i += static_cast<int64_t>(data.size());
      if (i < 0 || i >= static_cast<int64_t>(data.size())) return InvalidArgument(Describe(n) + ": index out of range");
      out.push_back(data[i]);
    }
    return OutInts(n, out, indices.scalar);
  }

  Status Unsqueeze(const onnx::NodeProto& n) {
    std::vector<int64_t> axes = IntsAttr(n, "axes");
    if (Has(n, 1)) {
      PB_ASSIGN_OR_RETURN(axes, Ints(n, 1));
    }
    PB_ASSIGN_OR_RETURN(Value v, In(n, 0));
    if (v.is_ints && v.scalar && axes == std::vector<int64_t>{0}) return OutInts(n, v.ints);
    PB_ASSIGN_OR_RETURN(Tensor t, T(n, 0));
    // Axes index the output, whose rank is the input's plus one per axis.
    const int64_t rank = t.ndim() + static_cast<int64_t>(axes.size());
    std::vector<int64_t> sorted;
    for (int64_t a : axes) sorted.push_back(a < 0 ? a + rank : a);
    std::sort(sorted.begin(), sorted.end());
    for (int64_t a : sorted) t = t.Unsqueeze(static_cast<int>(a));
    return Out(n, t);
  }

  const Model& model_;
  const bool training_;
  Values values_;
  const onnx::NodeProto* current_ = nullptr;
};

}  // namespace

std::vector<std::string> OperatorNames() {
  std::vector<std::string> names;
  for (const auto& [name, handler] : Interpreter::Handlers()) names.push_back(name);
  for (const auto& [name, fn] : ComposedOperators()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

Tensor IntsTensor(const Value& v, const std::string& device) {
  HostTensor h;
  h.dtype = v.int_dtype;
  h.ints = v.ints;
  h.shape = !v.shape.empty() || v.scalar ? v.shape : Shape{static_cast<int64_t>(v.ints.size())};
  return ToTensor(h, device);
}

Value FromHost(const HostTensor& h, const std::string& device) {
  Value v;
  if (!h.IsInts()) {
    v.tensor = ToTensor(h, device);
    return v;
  }
  v.is_ints = true;
  v.scalar = h.shape.empty();
  v.shape = h.shape;
  v.ints = h.ints;
  v.int_dtype = h.dtype;
  return v;
}

StatusOr<Value> TensorValue(const onnx::TensorProto& t, const std::string& device) {
  PB_ASSIGN_OR_RETURN(HostTensor h, ReadTensor(t));
  Value v = FromHost(h, device);
  if (!v.is_ints && !v.tensor.ok()) return v.tensor.status();
  return v;
}

StatusOr<HostTensor> ConstantValue(const onnx::NodeProto& n) {
  HostTensor h;
  if (const onnx::AttributeProto* a = FindAttr(n, "value"); a && a->has_t()) return ReadTensor(a->t());
  if (const onnx::AttributeProto* a = FindAttr(n, "value_float")) {
    h.values = {a->f()};
  } else if (const onnx::AttributeProto* a = FindAttr(n, "value_floats")) {
    h.values.assign(a->floats().begin(), a->floats().end());
    h.shape = {static_cast<int64_t>(h.values.size())};
  } else if (const onnx::AttributeProto* a = FindAttr(n, "value_int")) {
    h.dtype = DType::kInt64, h.ints = {a->i()};
  } else if (const onnx::AttributeProto* a = FindAttr(n, "value_ints")) {
    h.dtype = DType::kInt64, h.ints.assign(a->ints().begin(), a->ints().end());
    h.shape = {static_cast<int64_t>(h.ints.size())};
  } else {
    return InvalidArgument(Describe(n) + ": only value, value_float(s) and value_int(s) constants are supported");
  }
  return h;
}

Status ParseModel(std::string_view bytes, onnx::ModelProto* proto) {
  if (bytes.size() > INT32_MAX || !proto->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return InvalidArgument("not an ONNX model (onnx.ModelProto)");
  return Status::Ok();
}

Status PrepareTensors(const onnx::ModelProto& proto, Model* m) {
  m->graph = &proto.graph();
  for (const onnx::OperatorSetIdProto& op : proto.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") m->opset = op.version();
  std::set<std::string> stats;
  for (const onnx::NodeProto& n : m->graph->node())
    if (n.op_type() == "BatchNormalization" && n.input_size() >= 5) stats.insert({n.input(3), n.input(4)});
  for (const onnx::TensorProto& t : m->graph->initializer()) {
    PB_ASSIGN_OR_RETURN(Value v, TensorValue(t, m->device));
    if (!v.is_ints && v.tensor.dtype() == DType::kFloat32)
      (stats.count(t.name()) ? m->state : m->parameters).push_back({t.name(), v.tensor});
    m->initializers[t.name()] = v;
  }
  return Status::Ok();
}

StatusOr<Values> InterpretAll(const Model& model, const Values& inputs, const std::vector<std::string>& outputs,
                              bool training, const onnx::NodeProto** failed_node) {
  Interpreter interpreter(model, training);
  StatusOr<Values> out = interpreter.Run(inputs, outputs);
  if (failed_node != nullptr) *failed_node = out.ok() ? nullptr : interpreter.current();
  return out;
}

StatusOr<Tensor> Interpret(const Model& model, const Tensor& input, bool training) {
  Value in;
  in.tensor = input;
  PB_ASSIGN_OR_RETURN(Values out, InterpretAll(model, {{model.input, in}}, {model.output}, training));
  const Value& logits = out.begin()->second;
  if (logits.is_ints) return InvalidArgument("ONNX output '" + model.output + "' is not computed");
  return logits.tensor;
}

}  // namespace petabox::graph::onnx_internal
