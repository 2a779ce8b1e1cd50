// Graph capture: turns tensors built with the engine's frontend into a GraphIr. The
// builder function is called once per trace batch size with EMPTY input tensors on the
// tracing device (nothing is computed); the lazy graphs it returns are walked in the same
// order and must agree node for node. Every size is then fitted as fixed + per_sample * N
// and every scalar constant as a ratio of two such terms (1/N of a mean, n/(n-1) of an
// unbiased variance), each fit checked against all traces, so the graph runs at any batch
// size. In-place assignments made while building (BatchNorm2d's running statistics, via
// Tensor::Assign) become state updates.
//
// Leaves: an input's EMPTY node is that input; a BUFFER node whose buffer is a named
// parameter or state tensor is that tensor (its current values are stored); any other
// BUFFER node (e.g. an Arange) becomes a constant tensor with its values.
//
// Thread-compatible: one thread captures; the parameters must not change meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph_ir/graph_ir.h"
#include "engine/tensor.h"

namespace petabox::graph {

struct CaptureInput {
  std::string name;
  std::vector<int64_t> sample_shape;  // the input is (N, *sample_shape)
  DType dtype = DType::kFloat32;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct CaptureSpec {
  std::vector<CaptureInput> inputs;
  // Realized tensors, each with a buffer of its own (BUFFER nodes): trainable parameters
  // and state (saved, not trained).
  NamedTensors parameters;
  NamedTensors state;
  // Builds the named outputs from the inputs (in `inputs` order, on `device`). Must be
  // deterministic: the same graph at every batch size. One output must be "loss".
  std::function<StatusOr<NamedTensors>(const std::vector<Tensor>& inputs)> build;
  // Where the inputs are made (the parameters must be there too).
  std::string device = "TRACE:0";
  // The traced batch sizes: at least 4, distinct, each >= 2. Odd primes keep them apart
  // from the model's own sizes.
  std::vector<int64_t> batch_sizes = {5, 7, 11, 13};
  std::string producer;
};

// The graph, validated (Validate in resolve.h). InvalidArgument naming the node when the
// traces disagree (the graph's structure depends on the batch size), when a size or
// constant depends on it in a way the IR cannot express, when an output carries an error,
// when a graph copies between devices, or when an assignment targets a tensor that is not
// named state.
StatusOr<GraphIr> CaptureGraph(const CaptureSpec& spec);

}  // namespace petabox::graph
