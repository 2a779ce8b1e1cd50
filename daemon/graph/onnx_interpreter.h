// Interpreting an ONNX graph with the engine's frontend (daemon/graph/onnx_import.h says
// what is supported). Internal to daemon/graph: onnx_import.cc prepares the model once and
// runs the interpreter inside each trace of the capture. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/graph_ir/capture.h"
#include "daemon/graph/onnx_tensor.h"
#include "engine/tensor.h"
#include "onnx/onnx.pb.h"

namespace petabox::graph::onnx_internal {

// Where imported tensors live while the graph is captured.
inline constexpr char kDevice[] = "TRACE:0";

// A value while interpreting: an engine tensor, or host integers (shape arithmetic; an
// operator that needs a tensor gets them as an `int_dtype` tensor).
struct Value {
  Tensor tensor;
  bool is_ints = false;
  std::vector<int64_t> ints;
  bool scalar = false;  // host integers that form a scalar
  Shape shape;          // of host integers ({n}, or {} for a scalar, unless given)
  DType int_dtype = DType::kInt64;
};

// A host tensor as a Value: integers (int32, int64) stay on the host, other types become
// a tensor on `device`.
Value FromHost(const HostTensor& h, const std::string& device);

// The ONNX operators the interpreter runs, sorted.
std::vector<std::string> OperatorNames();

// Host integers as a tensor of their type on `device` (an operator that needs a tensor).
Tensor IntsTensor(const Value& v, const std::string& device);

// An initializer or Constant as a Value on `device`. InvalidArgument naming the tensor for
// unsupported types, external data or sizes that do not fit.
StatusOr<Value> TensorValue(const onnx::TensorProto& t, const std::string& device = kDevice);

// The model's tensors, made once, shared by every trace.
struct Model {
  const onnx::GraphProto* graph = nullptr;
  int64_t opset = 13;
  std::map<std::string, Value> initializers;  // parameters and state as tensors; shape ints
  NamedTensors parameters, state;
  std::string device = kDevice;  // where initializers and constants are made
  // The training contract (onnx_import.cc): the examples input and the logits output.
  std::string input, output;
  std::vector<int64_t> sample_shape;
};

// Node attributes, each with its default when the node has none.
std::string Describe(const onnx::NodeProto& n);  // "ONNX node 'name' (OpType)"
const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name);
int64_t IntAttr(const onnx::NodeProto& n, const std::string& name, int64_t def);
double FloatAttr(const onnx::NodeProto& n, const std::string& name, double def);
std::string StringAttr(const onnx::NodeProto& n, const std::string& name, const std::string& def);
std::vector<int64_t> IntsAttr(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> def = {});

// Softmax or LogSoftmax of `x` by the node's axis: from opset 13 over that axis alone,
// before it over all axes from it on (x seen as 2-D), as ONNX defines.
Tensor SoftmaxOf(const onnx::NodeProto& n, const Tensor& x, int64_t opset, bool log);

// A Constant node's value (value, value_float(s), value_int(s)); InvalidArgument naming the
// node for other kinds (sparse, strings).
StatusOr<HostTensor> ConstantValue(const onnx::NodeProto& n);

// data gathered along `axis` at host `indices` of `index_shape` (ONNX Gather; negative
// indices count from the end); an error tensor for an index out of range.
Tensor GatherTensor(const Tensor& data, const std::vector<int64_t>& indices, const Shape& index_shape, int64_t axis);

// What an operator of onnx_ops.cc sees of the interpreter.
class NodeInputs {
 public:
  virtual ~NodeInputs() = default;
  // Input i as a tensor (host integers become one); InvalidArgument naming the node when
  // it is missing.
  virtual StatusOr<Tensor> T(const onnx::NodeProto& n, int i) const = 0;
  // Input i as host integers (a constant or shape arithmetic).
  virtual StatusOr<std::vector<int64_t>> Ints(const onnx::NodeProto& n, int i) const = 0;
  virtual bool Has(const onnx::NodeProto& n, int i) const = 0;
  virtual int64_t opset() const = 0;
};

// An operator: the node's outputs from its inputs. Errors name the node; a tensor in error
// is reported by the caller with the node's name.
using OperatorFn = StatusOr<std::vector<Tensor>> (*)(const onnx::NodeProto& n, const NodeInputs& in);
// The operators composed in onnx_ops.cc, by ONNX name.
const std::map<std::string, OperatorFn>& ComposedOperators();

// `bytes` parsed. InvalidArgument when they are not an onnx.ModelProto.
Status ParseModel(std::string_view bytes, onnx::ModelProto* proto);

// The opset and the initializers of `proto` on m->device (BatchNormalization's running
// statistics as state, other float initializers as parameters); m->graph points into
// `proto`. InvalidArgument naming an initializer that cannot be read.
Status PrepareTensors(const onnx::ModelProto& proto, Model* m);

// Every value the graph's outputs name, from named inputs. `failed_node`, when not null,
// is set to the node being run when an error occurs (null otherwise).
using Values = std::map<std::string, Value>;
StatusOr<Values> InterpretAll(const Model& model, const Values& inputs, const std::vector<std::string>& outputs,
                              bool training, const onnx::NodeProto** failed_node = nullptr);

// The model's output for `input`, in evaluation mode or training mode (BatchNormalization
// with batch statistics, assigning its running statistics). InvalidArgument naming the
// ONNX node for an unsupported operator or attribute, or shapes that do not fit.
StatusOr<Tensor> Interpret(const Model& model, const Tensor& input, bool training);

}  // namespace petabox::graph::onnx_internal
