#include "engine/nn/module.h"

namespace petabox::nn {

Status AssignInPlace(Tensor* target, const Tensor& value) {
  Tensor r = target->Assign(value);
  return r.status();
}

Tensor Module::TrainingLoss(const Tensor& x, const Tensor& labels, double label_smoothing) {
  return Forward(x).CrossEntropy(labels, label_smoothing);
}

void Module::Train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->Train(training);
}

void Module::Collect(const std::string& prefix, bool with_buffers, NamedTensorPtrs* out) {
  for (auto& [name, t] : params_) out->emplace_back(prefix + name, t);
  if (with_buffers)
    for (auto& [name, t] : buffers_) out->emplace_back(prefix + name, t);
  for (auto& [name, child] : children_) child->Collect(prefix + name + ".", with_buffers, out);
}

NamedTensorPtrs Module::NamedParameters() {
  NamedTensorPtrs out;
  Collect("", false, &out);
  return out;
}

NamedTensorPtrs Module::NamedState() {
  NamedTensorPtrs out;
  Collect("", true, &out);
  return out;
}

void Module::ZeroGrad() {
  for (auto& [name, t] : NamedParameters()) t->ZeroGrad();
}

}  // namespace petabox::nn
