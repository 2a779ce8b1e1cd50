// Data-parallel training: one model trained on several devices as if on one. Each device
// holds a replica of the model (identical parameters) and trains on its part of the global
// batch; the gradients are all-reduced (engine/multi_allreduce.h: COPY + ADD in the lazy
// graph), so every replica applies the same update and the replicas stay identical. The
// result equals training the model on one device on the whole global batch, up to float
// rounding (the gradient sums are added in another order).
//
// The step is one lazy graph over all devices: the forward passes, the global mean loss
// (each device's mean cross-entropy weighted by its share of the batch), the backward pass,
// the gradient all-reduce (in buckets: several gradients flattened into one all-reduce) and
// the optimizers' updates. Through a Jit (as TrainStep) it is replayed from the third call
// on, with the devices working concurrently (engine/multi_exec.h).
//
// BatchNorm2d layers normalize with the statistics of their device's part of the batch (as
// PyTorch's DistributedDataParallel without SyncBatchNorm); each replica then keeps its own
// running statistics (checkpoints take replica 0's). With sync_batchnorm they use the
// statistics of the whole global batch (all-reduced; the replicas' layers run in lockstep,
// which needs models built of Sequential containers), and training equals one-device
// training for BatchNorm models too.
//
// Thread-compatible: one thread drives a DataParallelStep, and nothing else may use the
// replicas or optimizers while Run is in progress.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/jit.h"
#include "engine/multi_allreduce.h"
#include "engine/nn/mixed_precision.h"
#include "engine/nn/module.h"
#include "engine/nn/optim/optimizer.h"

namespace petabox::nn {

struct DataParallelOptions {
  // CrossEntropy's label smoothing, in [0, 1].
  double label_smoothing = 0;
  // false: every step builds and schedules its graph (see TrainStepOptions::use_jit).
  bool use_jit = true;
  // BatchNorm2d statistics over the global batch instead of each device's part.
  bool sync_batchnorm = false;
  // How gradients (and synchronized BatchNorm statistics) are all-reduced.
  AllReduceOptions allreduce;
  // Gradients are flattened into buckets of about this many bytes (in parameter order),
  // one all-reduce per bucket; >= 1.
  int64_t bucket_bytes = int64_t{25} << 20;
  // float32, or mixed precision with float32 master weights (engine/nn/mixed_precision.h).
  Precision precision = Precision::kFloat32;
  // float16's dynamic loss scaling (unused in the other precisions): one scale for all
  // replicas; every replica sees the same all-reduced gradients and so skips the same steps.
  LossScalerOptions loss_scaling;
};

// The sizes of the parts a batch of `batch` examples is split into over `devices` devices:
// the first batch % devices parts are one example larger (MultiTensor::Shard's blocks).
std::vector<int64_t> SplitBatch(int64_t batch, int devices);

// Moves every parameter and buffer of `module` to `device` (new buffers there; parameters
// stay parameters). Errors: the device's, or a tensor of the module carrying one.
Status MoveToDevice(Module& module, const std::string& device);
// Copies every parameter and buffer of `from` into `to` in place (AssignNamed: same names
// and shapes; `to` keeps its devices).
Status CopyModuleState(Module& from, Module& to);
// Copies an optimizer's state (step count, per-parameter buffers) into another of the same
// kind over a replica of the same model (Optimizer::LoadState).
Status CopyOptimizerState(Optimizer& from, Optimizer& to);

class DataParallelStep {
 public:
  // replicas[i] holds all its parameters and buffers on one device, a different one for
  // each i, and all replicas have the same structure and values (CopyModuleState);
  // optimizers[i] is built over replicas[i]->NamedParameters(), all of one kind and
  // settings. They must outlive the step. InvalidArgument when the counts differ or are 0,
  // a replica's parameters differ in names or shapes from replica 0's, or sit on several
  // devices or on a device another replica uses; FailedPrecondition naming the device when
  // one cannot do options.precision.
  static StatusOr<std::unique_ptr<DataParallelStep>> Create(std::vector<Module*> replicas,
                                                            std::vector<Optimizer*> optimizers,
                                                            DataParallelOptions options = {});
  DataParallelStep(const DataParallelStep&) = delete;
  DataParallelStep& operator=(const DataParallelStep&) = delete;

  // Trains on one global batch given in parts: images[i] (N_i, ...) and labels[i] (N_i,)
  // integer class indices on devices()[i], N_i >= 1 (SplitBatch's sizes, or any others).
  // Returns the global batch's mean loss before the update; `step` is the number of
  // updates already applied (as TrainStep::Run). In float16 a step whose gradients
  // overflowed is skipped (last_step_skipped()) and the loss scale lowered. Afterwards every optimizer's step() is
  // step + 1 and every gradient is cleared. Errors: the model's and the loss's, parts that
  // do not match the devices, a batch whose shapes differ from the captured one, device errors.
  StatusOr<double> Run(const std::vector<Tensor>& images, const std::vector<Tensor>& labels, int64_t step);

  // The replicas' devices, in replica order.
  const std::vector<std::string>& devices() const { return devices_; }
  // True once a step has been captured (calls from then on replay it).
  bool captured() const { return jit_ != nullptr && jit_->captured(); }
  // Kernels and copies one replayed step runs (0 before capture or without the JIT).
  size_t captured_ops() const { return jit_ ? jit_->captured_ops() : 0; }
  // float16's loss scaling: the current scale (1 in the other precisions), the steps
  // skipped so far because their gradients overflowed, and whether the last Run skipped.
  double loss_scale() const { return scaler_ ? scaler_->scale() : 1.0; }
  int64_t skipped_steps() const { return scaler_ ? scaler_->skipped_steps() : 0; }
  bool last_step_skipped() const { return last_skipped_; }
  // Consecutive skipped steps up to the last Run (0 when it was applied).
  int64_t consecutive_skips() const { return scaler_ ? scaler_->consecutive_skips() : 0; }

 private:
  DataParallelStep(std::vector<Module*> replicas, std::vector<Optimizer*> optimizers, DataParallelOptions options,
                   std::vector<std::string> devices);
  StatusOr<std::vector<Tensor>> Build(const std::vector<Tensor>& inputs);
  StatusOr<std::vector<Tensor>> BuildAndUpdate(const std::vector<Tensor>& inputs);
  StatusOr<std::vector<Tensor>> Forward(const std::vector<Tensor>& images);
  // Each part's loss (weighted by its share of the batch); `logits` given in lockstep.
  StatusOr<std::vector<Tensor>> Losses(const std::vector<Tensor>& images, const std::vector<Tensor>& labels,
                                       const std::vector<Tensor>& logits);
  Status AllReduceGradients();
  void ZeroGrad();
  std::unique_ptr<Jit> MakeJit();

  std::vector<Module*> replicas_;
  std::vector<Optimizer*> optimizers_;
  DataParallelOptions options_;
  std::vector<std::string> devices_;
  std::unique_ptr<Jit> jit_;  // null without the JIT
  std::unique_ptr<LossScaler> scaler_;  // float16 only
  bool last_skipped_ = false;
};

}  // namespace petabox::nn
