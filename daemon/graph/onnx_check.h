// Checking an ONNX model against an ONNX test data set (`petabox onnx check`, the
// conformance suite in tests/daemon/graph/onnx_conformance): the model is evaluated
// (onnx_evaluate.h) on the data set's input_*.pb TensorProtos and its outputs compared with
// output_*.pb; without a data set it runs on seeded random inputs of its declared shapes.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

namespace petabox::graph {

struct OnnxCheckOptions {
  // A directory holding input_0.pb, ... and output_0.pb, ... (an ONNX test_data_set_N).
  // Empty: seeded random inputs, outputs not compared.
  std::string data_dir;
  std::string device = "CPU:0";
  // An output value passes when |got - want| <= atol + rtol * |want| (NaN equals NaN).
  double rtol = 1e-3;
  double atol = 1e-4;
  // For the random inputs.
  uint64_t seed = 0;
};

enum class OnnxVerdict {
  kPass,     // ran, and every output matched (or, without data, ran to the end)
  kFail,     // a wrong answer: an output of the wrong shape or values out of tolerance,
             // or an error while computing
  kRefused,  // the model, its data or an operator is not supported or malformed (named)
};

struct OnnxCheckResult {
  std::string model;
  OnnxVerdict verdict = OnnxVerdict::kRefused;
  bool compared = false;       // outputs compared with a data set's
  double max_abs_error = 0;    // over all outputs, when compared
  std::string op;              // the refused operator, when one is to blame
  std::string message;
};

// Never fails: every problem, hostile input included, is a verdict with a message.
OnnxCheckResult CheckOnnxModel(const std::string& model_path, const OnnxCheckOptions& options);

// {"model":...,"result":"pass"|"fail"|"refused","compared":...,"max_abs_error":...,
//  "operator":...,"message":...} on one line (max_abs_error null when not compared).
std::string OnnxCheckJson(const OnnxCheckResult& result);

}  // namespace petabox::graph
