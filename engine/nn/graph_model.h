// GraphModel: a model given as a training graph (engine/graph_ir), trained like any other
// Module. Its parameters (trainable) and state (e.g. BatchNorm running statistics) are the
// graph's, under the graph's names (so checkpoints and optimizers see them as they see a
// zoo model's); every call instantiates the graph at the batch size of its input.
//
//   Forward(x)             evaluation mode: the "logits" output; training mode:
//                          "train_logits" (x feeds the input named "input")
//   TrainingLoss(x, y, 0)  the graph's "loss" (y feeds "label"); the state updates the
//                          graph declares are assigned in place, as BatchNorm2d does
//
// ExportClassifier is the other direction: a classifier Module (a zoo model) captured as a
// graph whose loss is the mean cross-entropy of its training-mode forward.
//
// Thread-compatible, like every Module.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph_ir/graph_ir.h"
#include "engine/graph_ir/resolve.h"
#include "engine/nn/module.h"
#include "engine/random.h"

namespace petabox::nn {

class GraphModel : public Module {
 public:
  // Validates the graph (graph::Validate) and creates its parameters and state on `device`
  // ("" = the default device): the graph's values, or drawn from `rng` by the initializers
  // (in declaration order). The graph's errors as InvalidArgument naming the node.
  static StatusOr<std::unique_ptr<GraphModel>> Create(std::shared_ptr<const graph::GraphIr> graph, Rng& rng,
                                                      const std::string& device = "");

  Tensor Forward(const Tensor& x) override;
  // label_smoothing must be 0: the graph defines its loss. Labels are cast to the "label"
  // input's dtype.
  Tensor TrainingLoss(const Tensor& x, const Tensor& labels, double label_smoothing) override;

  // The named outputs for the named inputs (all on one device, batch size from the first),
  // without state updates. InvalidArgument for an unknown name or a missing input.
  StatusOr<std::vector<Tensor>> Outputs(const std::vector<std::string>& names,
                                        const std::map<std::string, Tensor>& inputs);

  const graph::GraphIr& graph() const { return *graph_; }

 private:
  explicit GraphModel(std::shared_ptr<const graph::GraphIr> graph);
  Status CreateTensors(Rng& rng, const std::string& device);
  // Engine nodes of `roots` with these inputs bound.
  StatusOr<std::vector<NodeRef>> Build(const std::vector<uint32_t>& roots, const std::map<std::string, Tensor>& inputs);
  StatusOr<std::vector<NodeRef>> ConstantsOn(const std::string& device);
  Tensor Output(const char* name, const std::map<std::string, Tensor>& inputs);

  std::shared_ptr<const graph::GraphIr> graph_;
  std::vector<Tensor> params_;  // sized once: the Module registry points into it
  std::vector<Tensor> state_;
  std::map<std::string, std::vector<Tensor>> constants_;  // uploaded per device
  std::map<int64_t, graph::ResolvedGraph> resolved_;      // per batch size
};

struct ExportOptions {
  // The loss's label smoothing (CrossEntropy), in [0, 1].
  double label_smoothing = 0;
  // Batch sizes traced (graph::CaptureSpec::batch_sizes).
  std::vector<int64_t> batch_sizes = {5, 7, 11, 13};
  std::string producer = "petabox";
};

// `model` (all of it on the tracing device TRACE:0, or the device its parameters are on)
// as a graph: inputs "input" (N, *sample_shape) float32 and "label" (N,) int32; outputs
// "loss" (mean cross-entropy of the training-mode forward), "train_logits" and "logits"
// (evaluation-mode forward); parameters and state under their Module names, with their
// current values. The model's mode is restored. Errors: graph::CaptureGraph's.
StatusOr<graph::GraphIr> ExportClassifier(Module& model, const std::vector<int64_t>& sample_shape,
                                          const ExportOptions& options = {});

}  // namespace petabox::nn
