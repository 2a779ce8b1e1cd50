// ONNX models as training graphs. The ONNX graph (Debian's libonnx-dev onnx.proto) is
// interpreted with the engine's frontend on the tracing device and captured
// (engine/graph_ir/capture.h), so the result is an ordinary graph with a symbolic batch:
//   - its one non-initializer input becomes "input" ((N, *dims[1:]), float32; dims after
//     the first must be fixed), its first output the logits;
//   - float initializers become trainable parameters (under their ONNX names), except the
//     running mean and variance of BatchNormalization, which become state;
//   - "logits" interprets the model in evaluation mode (BatchNormalization with the
//     running statistics), "train_logits" in training mode (batch statistics; the running
//     statistics are updated with the node's momentum, PyTorch's rule), and "loss" is the
//     mean cross-entropy of train_logits against "label" ((N,) int32).
// Operators: those OnnxOperators() lists (onnx_evaluate.h; the README lists them and
// daemon/graph/ONNX_CONFORMANCE.md tallies ONNX's node tests for each). Dropout is the
// identity in both modes (graphs have no random source).
// Anything else is InvalidArgument naming the operator and its node.
//
// Thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "engine/graph_ir/graph_ir.h"

namespace petabox::graph {

struct OnnxImportOptions {
  // The loss's label smoothing, in [0, 1].
  double label_smoothing = 0;
  std::string producer = "onnx";
};

// A serialized onnx.ModelProto as a validated graph. InvalidArgument for bytes that are not
// a model, an unsupported operator or attribute (named, with the node), shapes that do not
// fit, or a model whose structure depends on the batch size.
StatusOr<GraphIr> ImportOnnx(std::string_view bytes, const OnnxImportOptions& options = {});
// The file read and imported; NotFound when it cannot be read.
StatusOr<GraphIr> ImportOnnxFile(const std::string& path, const OnnxImportOptions& options = {});

}  // namespace petabox::graph
