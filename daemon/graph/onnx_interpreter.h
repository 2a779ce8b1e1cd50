// Interpreting an ONNX graph with the engine's frontend (daemon/graph/onnx_import.h says
// what is supported). Internal to daemon/graph: onnx_import.cc prepares the model once and
// runs the interpreter inside each trace of the capture. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph_ir/capture.h"
#include "engine/tensor.h"
#include "onnx/onnx.pb.h"

namespace petabox::graph::onnx_internal {

// Where imported tensors live while the graph is captured.
inline constexpr char kDevice[] = "TRACE:0";

// A value while interpreting: an engine tensor, or host integers (shape arithmetic).
struct Value {
  Tensor tensor;
  bool is_ints = false;
  std::vector<int64_t> ints;
  bool scalar = false;  // host integers that form a scalar
};

// An initializer or Constant as a Value: float32 values as a tensor on kDevice, integers
// on the host. InvalidArgument naming the tensor for other types, external data or sizes
// that do not fit.
StatusOr<Value> TensorValue(const onnx::TensorProto& t);

// The model's tensors, made once, shared by every trace.
struct Model {
  const onnx::GraphProto* graph = nullptr;
  int64_t opset = 13;
  std::map<std::string, Value> initializers;  // parameters and state as tensors; shape ints
  NamedTensors parameters, state;
  std::string input, output;
  std::vector<int64_t> sample_shape;
};

// The model's output for `input`, in evaluation mode or training mode (BatchNormalization
// with batch statistics, assigning its running statistics). InvalidArgument naming the
// ONNX node for an unsupported operator or attribute, or shapes that do not fit.
StatusOr<Tensor> Interpret(const Model& model, const Tensor& input, bool training);

}  // namespace petabox::graph::onnx_internal
