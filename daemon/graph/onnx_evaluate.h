// ONNX models for evaluation: any number of inputs and outputs of any shape, interpreted
// with the engine's frontend directly on a device (no graph capture, no symbolic batch, no
// loss). This is what checks the importer's operators (onnx_check.h); training goes
// through ImportOnnx (onnx_import.h), whose one-input, logits-output contract stays.
// Operators, attributes and their errors are the importer's.
//
// Thread-compatible: one thread evaluates at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace petabox::graph {

// A graph input or output as declared: element type and shape (-1 where the model leaves
// a dimension symbolic or unknown; an empty shape with has_shape false when undeclared).
struct OnnxValueInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  bool has_shape = false;
};

// The ONNX operators the importer and the evaluator run (default domain), sorted.
std::vector<std::string> OnnxOperators();

class OnnxEvaluator {
 public:
  // The model in `bytes`, its initializers made on `device`. InvalidArgument for bytes
  // that are not a model, an initializer or input of an unsupported type (named), or a
  // model without outputs.
  static StatusOr<std::unique_ptr<OnnxEvaluator>> Create(std::string_view bytes, const std::string& device);
  ~OnnxEvaluator();

  // The non-initializer inputs and the outputs, in the model's order.
  const std::vector<OnnxValueInfo>& inputs() const;
  const std::vector<OnnxValueInfo>& outputs() const;

  // The outputs (in outputs() order, not yet realized) of the forward pass in evaluation
  // mode on `inputs` (in inputs() order, on the device). InvalidArgument naming the node
  // for an unsupported operator or attribute or shapes that do not fit; the failing node's
  // operator is then stored in *failed_operator when that is not null.
  StatusOr<std::vector<Tensor>> Evaluate(const std::vector<Tensor>& inputs, std::string* failed_operator = nullptr) const;

 private:
  struct Impl;
  explicit OnnxEvaluator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace petabox::graph
