// Optimizer: updates a module's parameters in place from their gradients.
//
// Per step, call PrepareStep(step) (or let Step() call it) and then Step(). Everything that
// changes from step to step (the learning rate, Adam's bias corrections) lives in small
// device buffers that PrepareStep writes from the host; the update graph reads them, never
// a constant baked into the graph, so a captured (JIT) step replayed later uses the values
// of the step being replayed: call PrepareStep(step) before each replay.
//
// Checkpointing: NamedState() lists the optimizer's state tensors ("step", and per
// parameter e.g. "momentum.<param name>"); LoadState() restores them.
// Thread-compatible: one thread drives an optimizer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/nn/optim/lr_schedule.h"
#include "engine/nn/state_dict.h"

namespace petabox::nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient (others are skipped), in
  // place (Assign), then counts the step. Runs PrepareStep(step()) first unless that step
  // was prepared. Errors: a gradient whose shape differs from its parameter, device errors.
  Status Step();
  // Drops every parameter's gradient (and an update condition not used yet).
  void ZeroGrad();
  // For the next Step only: `keep`, a bool 0-d tensor (realized, so that the updates read
  // it rather than recompute it), decides in the graph whether the update is applied;
  // where it is false, Step writes every parameter's and state buffer's old value back, so
  // nothing changes (loss scaling's skipped steps, engine/nn/mixed_precision.h). A
  // JIT-captured step replays the decision from that step's data.
  void SetUpdateCondition(Tensor keep) { keep_ = std::move(keep); }

  // The learning rate for the next steps (PrepareStep takes it from the schedule instead
  // when one is attached).
  void SetLearningRate(double lr);
  double learning_rate() const { return lr_; }
  void SetSchedule(LrSchedule schedule);

  // Makes `step` (the number of updates already applied) the next step: takes the learning
  // rate from the schedule if one is attached and writes the per-step device buffers.
  // InvalidArgument for a negative step.
  Status PrepareStep(int64_t step);
  // The number of updates applied (the next step's index).
  int64_t step() const { return step_; }

  const NamedTensorPtrs& params() const { return params_; }
  // "step" (int64, 0-d) and the per-parameter buffers; the pointers stay valid for the
  // optimizer's lifetime. The "step" tensor is refreshed from step() by this call.
  NamedTensorPtrs NamedState();
  // Restores what NamedState() listed (AssignNamed's checks; `source` names it in errors).
  Status LoadState(const NamedTensors& values, const std::string& source);

 protected:
  // params: (name, tensor) pairs, usually Module::NamedParameters(); the tensors must
  // outlive the optimizer (it updates them through these pointers).
  Optimizer(NamedTensorPtrs params, double lr);

  // A zero buffer per parameter (same shape, dtype and device), listed in NamedState as
  // "<prefix>.<param name>". Call from the subclass constructor.
  std::vector<Tensor*> AddState(const std::string& prefix);
  // A float32 0-d device buffer (one per device holding parameters) written by the host.
  int AddScalar();
  // The copy of scalar `id` on `device`.
  const Tensor& scalar(int id, const std::string& device) const { return scalars_[id].at(device); }
  Status WriteScalar(int id, double value);

  // Assigns `value` to a parameter or state buffer in place (AssignInPlace), or its old
  // value where the update condition (SetUpdateCondition) is false. Subclasses' Update
  // writes through this.
  Status Write(Tensor* target, const Tensor& value);

  // Writes the per-step scalars for `step` with learning rate `lr`.
  virtual Status WriteScalars(int64_t step, double lr) = 0;
  // Builds and assigns the update of params()[i] given its (realized) gradient.
  virtual Status Update(size_t i, const Tensor& grad) = 0;

 private:
  NamedTensorPtrs params_;
  double lr_;
  LrSchedule schedule_;
  int64_t step_ = 0;
  bool prepared_ = false;  // PrepareStep(step_) wrote the scalars for the current lr_
  Status init_status_;     // first error while creating state (reported by Step)
  Tensor keep_;            // the next Step's update condition (uninitialized: always)
  Tensor step_tensor_;
  std::vector<std::unique_ptr<Tensor>> state_storage_;
  NamedTensorPtrs state_;
  std::vector<std::map<std::string, Tensor>> scalars_;  // id -> device -> 0-d buffer
};

}  // namespace petabox::nn
