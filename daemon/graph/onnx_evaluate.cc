#include "daemon/graph/onnx_evaluate.h"

#include "daemon/graph/onnx_interpreter.h"

namespace petabox::graph {
namespace {

using onnx_internal::Model;
using onnx_internal::Value;
using onnx_internal::Values;

StatusOr<OnnxValueInfo> Declared(const onnx::ValueInfoProto& v, const std::string& role) {
  OnnxValueInfo info;
  info.name = v.name();
  const auto& type = v.type().tensor_type();
  StatusOr<DType> dtype = onnx_internal::EngineDType(type.elem_type());
  if (!dtype.ok()) return InvalidArgument("ONNX " + role + " '" + v.name() + "': " + dtype.status().message());
  info.dtype = *dtype;
  info.has_shape = type.has_shape();
  for (const auto& d : type.shape().dim()) info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return info;
}

// Integer inputs go to the interpreter as host integers, as shape arithmetic would make
// them, so that a Reshape's shape or a Gather's indices may be graph inputs.
StatusOr<Value> InputValue(const Tensor& t) {
  Value v;
  if (t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64) {
    v.tensor = t;
    return v;
  }
  PB_ASSIGN_OR_RETURN(std::vector<double> values, t.ToDoubles());
  v.is_ints = true;
  v.int_dtype = t.dtype();
  v.shape = t.shape();
  v.scalar = t.shape().empty();
  for (double d : values) v.ints.push_back(static_cast<int64_t>(d));
  return v;
}

}  // namespace

std::vector<std::string> OnnxOperators() { return onnx_internal::OperatorNames(); }

struct OnnxEvaluator::Impl {
  onnx::ModelProto proto;
  Model model;
  std::vector<OnnxValueInfo> inputs, outputs;
};

OnnxEvaluator::OnnxEvaluator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxEvaluator::~OnnxEvaluator() = default;

StatusOr<std::unique_ptr<OnnxEvaluator>> OnnxEvaluator::Create(std::string_view bytes, const std::string& device) {
  auto impl = std::make_unique<Impl>();
  PB_RETURN_IF_ERROR(onnx_internal::ParseModel(bytes, &impl->proto));
  impl->model.device = device;
  PB_RETURN_IF_ERROR(onnx_internal::PrepareTensors(impl->proto, &impl->model));
  for (const onnx::ValueInfoProto& in : impl->proto.graph().input()) {
    if (impl->model.initializers.count(in.name())) continue;
    PB_ASSIGN_OR_RETURN(OnnxValueInfo info, Declared(in, "input"));
    impl->inputs.push_back(std::move(info));
  }
  for (const onnx::ValueInfoProto& out : impl->proto.graph().output()) {
    PB_ASSIGN_OR_RETURN(OnnxValueInfo info, Declared(out, "output"));
    impl->outputs.push_back(std::move(info));
  }
  if (impl->outputs.empty()) return InvalidArgument("ONNX model has no output");
  return std::unique_ptr<OnnxEvaluator>(new OnnxEvaluator(std::move(impl)));
}

const std::vector<OnnxValueInfo>& OnnxEvaluator::inputs() const { return impl_->inputs; }
const std::vector<OnnxValueInfo>& OnnxEvaluator::outputs() const { return impl_->outputs; }

StatusOr<std::vector<Tensor>> OnnxEvaluator::Evaluate(const std::vector<Tensor>& inputs,
                                                      std::string* failed_operator) const {
  if (inputs.size() != impl_->inputs.size()) {
    return InvalidArgument("the ONNX model takes " + std::to_string(impl_->inputs.size()) + " inputs, " +
                           std::to_string(inputs.size()) + " given");
  }
  Values in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].ok()) return inputs[i].status();
    PB_ASSIGN_OR_RETURN(in[impl_->inputs[i].name], InputValue(inputs[i]));
  }
  std::vector<std::string> names;
  for (const OnnxValueInfo& o : impl_->outputs) names.push_back(o.name);
  const onnx::NodeProto* failed = nullptr;
  StatusOr<Values> out = onnx_internal::InterpretAll(impl_->model, in, names, false, &failed);
  if (!out.ok()) {
    if (failed != nullptr && failed_operator != nullptr) *failed_operator = failed->op_type();
    return out.status();
  }
  std::vector<Tensor> result;
  for (const std::string& name : names) {
    const Value& v = out->at(name);
    result.push_back(v.is_ints ? onnx_internal::IntsTensor(v, impl_->model.device) : v.tensor);
  }
  return result;
}

}  // namespace petabox::graph
