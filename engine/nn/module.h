// Module: the base of every nn layer and model. A module owns its parameters (tensors that
// require grad), its buffers (state that is saved but not trained, e.g. BatchNorm running
// statistics) and its child modules, each registered under a name. Names compose with '.'
// ("0.weight", "fc1.bias") in a stable order: a module's own parameters, then its buffers,
// then each child in registration order (PyTorch's state_dict order).
//
// Modules are neither copyable nor movable (the registry holds pointers to members).
// Thread-compatible: one thread at a time per module tree.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace petabox::nn {

using NamedTensorPtrs = std::vector<std::pair<std::string, Tensor*>>;

// Writes `value` into *target's buffer in place (Tensor::Assign: realized now, dtype
// converted) and keeps *target a parameter if it was one (requires_grad, gradient). Returns
// the assign's error (shape or device mismatch, target not a buffer of its own).
Status AssignInPlace(Tensor* target, const Tensor& value);

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Builds the lazy output graph. Invalid input yields a Tensor carrying the error. May
  // update state (BatchNorm running statistics, Dropout's generator) in training mode.
  virtual Tensor Forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return Forward(x); }
  // The loss a training step minimizes on one batch: by default the mean cross-entropy of
  // Forward(x) against `labels`, integer class indices (N,), with label smoothing. A model
  // that defines its own loss (nn::GraphModel) overrides it. Errors as a Tensor carrying them.
  virtual Tensor TrainingLoss(const Tensor& x, const Tensor& labels, double label_smoothing);

  // Training mode (the default) or evaluation mode, for this module and all descendants.
  void Train(bool training = true);
  void Eval() { Train(false); }
  bool training() const { return training_; }

  // Trainable tensors, prefixed names, stable order.
  NamedTensorPtrs NamedParameters();
  // Parameters and buffers: everything a checkpoint of this module holds.
  NamedTensorPtrs NamedState();
  // Clears the gradient of every parameter.
  void ZeroGrad();
  // The direct children, in registration order.
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

 protected:
  // Registration, for constructors of subclasses. The pointers must stay valid for the
  // module's lifetime (members of the subclass, or modules it owns).
  void RegisterParameter(std::string name, Tensor* t) { params_.emplace_back(std::move(name), t); }
  void RegisterBuffer(std::string name, Tensor* t) { buffers_.emplace_back(std::move(name), t); }
  void RegisterModule(std::string name, Module* m) { children_.emplace_back(std::move(name), m); }

 private:
  void Collect(const std::string& prefix, bool with_buffers, NamedTensorPtrs* out);

  bool training_ = true;
  NamedTensorPtrs params_;
  NamedTensorPtrs buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace petabox::nn
