#include "engine/nn/train_step.h"

namespace petabox::nn {

TrainStep::TrainStep(Module& model, Optimizer& optimizer, TrainStepOptions options)
    : model_(model), optimizer_(optimizer), options_(options) {
  if (options_.use_jit) {
    jit_ = std::make_unique<Jit>([this](const std::vector<Tensor>& in) { return Build(in); });
  }
}

StatusOr<double> TrainStep::Run(const Tensor& images, const Tensor& labels, int64_t step) {
  PB_RETURN_IF_ERROR(optimizer_.PrepareStep(step));
  const bool replay = captured();
  StatusOr<std::vector<Tensor>> out = jit_ ? jit_->Run({images, labels}) : Build({images, labels});
  if (!out.ok()) {
    // A Jit whose first or second call failed holds no usable capture: start over.
    if (jit_ && !replay) jit_ = std::make_unique<Jit>([this](const std::vector<Tensor>& in) { return Build(in); });
    return out.status();
  }
  // A replay runs none of the step's host code, so Optimizer::Step did not advance the
  // optimizer's counter: advance it as an eager step would (the scalars it writes are
  // rewritten by the next Run's PrepareStep anyway).
  if (replay) PB_RETURN_IF_ERROR(optimizer_.PrepareStep(step + 1));
  return (*out)[0].Item();
}

StatusOr<std::vector<Tensor>> TrainStep::Build(const std::vector<Tensor>& inputs) {
  StatusOr<std::vector<Tensor>> out = BuildAndUpdate(inputs);
  // Cleared on failure too, so a half-built step leaves no gradient behind. The model's
  // own ZeroGrad also drops gradients of parameters the optimizer does not hold (frozen
  // ones), which would otherwise keep growing graphs over stale parameter versions.
  optimizer_.ZeroGrad();
  model_.ZeroGrad();
  return out;
}

StatusOr<std::vector<Tensor>> TrainStep::BuildAndUpdate(const std::vector<Tensor>& inputs) {
  Tensor loss = model_.TrainingLoss(inputs[0], inputs[1], options_.label_smoothing);
  PB_RETURN_IF_ERROR(loss.Backward());  // also reports a model or loss error
  // The loss and all gradients are computed in one schedule, before Step overwrites the
  // parameters their graphs read. The loss value gets a buffer of its own with no graph
  // behind it (Detach), which is what the Jit returns on replays.
  Tensor value = loss.Detach().Contiguous();
  std::vector<Tensor> grads;
  for (const auto& [name, p] : optimizer_.params()) {
    Tensor g = p->grad();
    if (g.ok()) grads.push_back(g);  // missing or failed gradients are Step's to report
  }
  std::vector<Tensor*> roots = {&value};
  for (Tensor& g : grads) roots.push_back(&g);
  PB_RETURN_IF_ERROR(RealizeAll(roots));
  // Step finds the gradients realized (their nodes carry the buffers) and only updates.
  PB_RETURN_IF_ERROR(optimizer_.Step());
  return std::vector<Tensor>{value};
}

}  // namespace petabox::nn
