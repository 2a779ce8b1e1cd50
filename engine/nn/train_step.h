// TrainStep: one supervised training step of a classifier (forward, mean cross-entropy,
// backward, optimizer update, gradients cleared), run through a Jit so that from the third
// call on a step replays the captured kernels instead of building, scheduling and lowering
// the graph again.
//
// The step realizes the loss and every gradient in one schedule before the optimizer
// overwrites the parameters in place (a graph must not be realized after a buffer it reads
// was assigned). Everything that changes between steps besides the batch (learning rate,
// bias corrections) lives in the optimizer's device scalars, written by PrepareStep on the
// host before each step, so a replay is exact.
//
// A replay repeats the captured graph, including anything drawn on the host while it was
// built: a model with Dropout would reuse one mask forever. Build such a model's step with
// use_jit = false. Shapes and dtypes of the batch must stay the same once captured (a
// smaller last batch is an InvalidArgument; drop it or use a second TrainStep).
//
// Thread-compatible: one thread drives a TrainStep, and nothing else may use its module or
// optimizer while Run is in progress.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/jit.h"
#include "engine/nn/mixed_precision.h"
#include "engine/nn/module.h"
#include "engine/nn/optim/optimizer.h"

namespace petabox::nn {

struct TrainStepOptions {
  // CrossEntropy's label smoothing, in [0, 1].
  double label_smoothing = 0;
  // false: every step builds and schedules its graph (needed for models that draw on the
  // host per step, e.g. Dropout; also the reference the JIT is compared against).
  bool use_jit = true;
  // float32, or mixed precision with float32 master weights (engine/nn/mixed_precision.h).
  Precision precision = Precision::kFloat32;
  // float16's dynamic loss scaling (unused in the other precisions).
  LossScalerOptions loss_scaling;
};

class TrainStep {
 public:
  // `model` and `optimizer` (built over model's parameters) must outlive the TrainStep.
  TrainStep(Module& model, Optimizer& optimizer, TrainStepOptions options = {});
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  // Trains on one batch: images (N, ...) as the model takes them, labels (N,) integer class
  // indices. `step` is the number of updates already applied (0 for the first), which
  // selects the learning rate and Adam's bias corrections. Returns the batch's mean loss
  // before the update; a NaN or Inf loss is returned as a value (the update was applied,
  // except in float16, where such a step is skipped: last_step_skipped()).
  // Afterwards optimizer.step() is step + 1 and every gradient is cleared.
  // Errors: the model's or the loss's shape errors, a negative step, a batch whose shape or
  // dtype differs from the captured one (InvalidArgument), a precision the model's device
  // cannot do (FailedPrecondition naming it), device errors.
  StatusOr<double> Run(const Tensor& images, const Tensor& labels, int64_t step);

  // True once a step has been captured (calls from then on replay it).
  bool captured() const { return jit_ != nullptr && jit_->captured(); }
  // Kernels and copies one replayed step runs (0 before capture or without the JIT).
  size_t captured_ops() const { return jit_ ? jit_->captured_ops() : 0; }
  // float16's loss scaling: the current scale (1 in the other precisions), the steps
  // skipped so far because their gradients overflowed, and whether the last Run skipped.
  double loss_scale() const { return scaler_ ? scaler_->scale() : 1.0; }
  int64_t skipped_steps() const { return scaler_ ? scaler_->skipped_steps() : 0; }
  bool last_step_skipped() const { return last_skipped_; }

 private:
  // The step as a graph builder: inputs {images, labels}; returns {loss} realized, and
  // with loss scaling also {loss, finite} (the bool that decided the update).
  StatusOr<std::vector<Tensor>> Build(const std::vector<Tensor>& inputs);
  StatusOr<std::vector<Tensor>> BuildAndUpdate(const std::vector<Tensor>& inputs);

  Module& model_;
  Optimizer& optimizer_;
  TrainStepOptions options_;
  std::unique_ptr<Jit> jit_;  // null without the JIT
  Status init_status_;        // the precision check's and the scaler's (reported by Run)
  std::unique_ptr<LossScaler> scaler_;  // float16 only
  bool last_skipped_ = false;
};

}  // namespace petabox::nn
