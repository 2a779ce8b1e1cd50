#include "daemon/graph/onnx_import.h"

#include <fstream>
#include <sstream>

#include "daemon/graph/onnx_interpreter.h"
#include "engine/graph_ir/capture.h"

namespace petabox::graph {
namespace {

using onnx_internal::kDevice;
using onnx_internal::Model;

// The training contract: one examples input (N, *fixed dims) of float32, the first output
// the logits.
Status Prepare(const onnx::ModelProto& proto, Model* m) {
  PB_RETURN_IF_ERROR(onnx_internal::PrepareTensors(proto, m));
  for (const onnx::ValueInfoProto& in : m->graph->input()) {
    if (m->initializers.count(in.name())) continue;
    if (!m->input.empty()) {
      return InvalidArgument("ONNX model has several inputs ('" + m->input + "', '" + in.name() +
                             "'); one is supported");
    }
    m->input = in.name();
    const auto& type = in.type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT)
      return InvalidArgument("ONNX input '" + in.name() + "' must be float32");
    for (int d = 1; d < type.shape().dim_size(); ++d) {
      if (!type.shape().dim(d).has_dim_value() || type.shape().dim(d).dim_value() <= 0) {
        return InvalidArgument("ONNX input '" + in.name() + "': dimension " + std::to_string(d) +
                               " must be fixed (only the batch may vary)");
      }
      m->sample_shape.push_back(type.shape().dim(d).dim_value());
    }
    if (type.shape().dim_size() < 1) return InvalidArgument("ONNX input '" + in.name() + "' has no batch dimension");
  }
  if (m->input.empty()) return InvalidArgument("ONNX model has no input");
  if (m->graph->output_size() < 1) return InvalidArgument("ONNX model has no output");
  m->output = m->graph->output(0).name();
  return Status::Ok();
}

}  // namespace

StatusOr<GraphIr> ImportOnnx(std::string_view bytes, const OnnxImportOptions& options) {
  onnx::ModelProto proto;
  PB_RETURN_IF_ERROR(onnx_internal::ParseModel(bytes, &proto));
  Model m;
  PB_RETURN_IF_ERROR(Prepare(proto, &m));
  CaptureSpec spec;
  spec.inputs = {{kInputName, m.sample_shape, DType::kFloat32}, {kLabelName, {}, DType::kInt32}};
  spec.parameters = m.parameters;
  spec.state = m.state;
  spec.device = kDevice;
  spec.producer = options.producer;
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<NamedTensors> {
    PB_ASSIGN_OR_RETURN(Tensor logits, onnx_internal::Interpret(m, in[0], false));
    PB_ASSIGN_OR_RETURN(Tensor train_logits, onnx_internal::Interpret(m, in[0], true));
    if (train_logits.ndim() != 2)
      return InvalidArgument("ONNX output '" + m.output + "' is " + ShapeToString(train_logits.shape()) +
                             "; a classifier's logits are (N, classes)");
    Tensor loss = train_logits.CrossEntropy(in[1], options.label_smoothing);
    return NamedTensors{{kLossOutput, loss}, {kTrainLogitsOutput, train_logits}, {kLogitsOutput, logits}};
  };
  return CaptureGraph(spec);
}

StatusOr<GraphIr> ImportOnnxFile(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("ONNX model '" + path + "' cannot be opened");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  StatusOr<GraphIr> g = ImportOnnx(bytes.str(), options);
  if (!g.ok()) return Status(g.status().code(), path + ": " + g.status().message());
  return g;
}

}  // namespace petabox::graph
