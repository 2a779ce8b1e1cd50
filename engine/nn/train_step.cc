#include "engine/nn/train_step.h"

#include "engine/autocast.h"

namespace petabox::nn {

TrainStep::TrainStep(Module& model, Optimizer& optimizer, TrainStepOptions options)
    : model_(model), optimizer_(optimizer), options_(options) {
  if (options_.use_jit) {
    jit_ = std::make_unique<Jit>([this](const std::vector<Tensor>& in) { return Build(in); });
  }
  if (options_.precision == Precision::kFloat32 || optimizer_.params().empty()) return;
  const Tensor& first = *optimizer_.params()[0].second;
  if (!first.ok()) return;  // Run reports the parameter's error
  init_status_ = CheckPrecisionSupported(options_.precision, first.device());
  if (init_status_.ok() && options_.precision == Precision::kFloat16) {
    StatusOr<std::unique_ptr<LossScaler>> scaler = LossScaler::Create({first.device()}, options_.loss_scaling);
    if (scaler.ok()) scaler_ = std::move(*scaler);
    else init_status_ = scaler.status();
  }
}

StatusOr<double> TrainStep::Run(const Tensor& images, const Tensor& labels, int64_t step) {
  PB_RETURN_IF_ERROR(init_status_);
  PB_RETURN_IF_ERROR(optimizer_.PrepareStep(step));
  if (scaler_) PB_RETURN_IF_ERROR(scaler_->Prepare());
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
  if (scaler_) {
    PB_ASSIGN_OR_RETURN(double finite, (*out)[1].Item());
    last_skipped_ = finite == 0;
    scaler_->Update(!last_skipped_);
  }
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
  Tensor loss;
  {
    AutocastGuard autocast(ComputeDType(options_.precision));
    loss = model_.TrainingLoss(inputs[0], inputs[1], options_.label_smoothing);
  }
  PB_RETURN_IF_ERROR((scaler_ ? scaler_->Scale(loss) : loss).Backward());  // also reports a model or loss error
  // The loss and all gradients are computed in one schedule, before Step overwrites the
  // parameters their graphs read. The loss value gets a buffer of its own with no graph
  // behind it (Detach), which is what the Jit returns on replays.
  Tensor value = loss.Detach().Contiguous();
  std::vector<Tensor*> roots = {&value};
  Tensor finite;
  if (scaler_) {
    PB_ASSIGN_OR_RETURN(finite, scaler_->UnscaleGradients(optimizer_));
    finite = finite.Detach().Contiguous();
    roots.push_back(&finite);
  }
  std::vector<Tensor> grads;
  for (const auto& [name, p] : optimizer_.params()) {
    Tensor g = p->grad();
    if (g.ok()) grads.push_back(g);  // missing or failed gradients are Step's to report
  }
  for (Tensor& g : grads) roots.push_back(&g);
  PB_RETURN_IF_ERROR(RealizeAll(roots));
  // Step finds the gradients realized (their nodes carry the buffers) and only updates.
  if (scaler_) optimizer_.SetUpdateCondition(finite);
  PB_RETURN_IF_ERROR(optimizer_.Step());
  if (scaler_) return std::vector<Tensor>{value, finite};
  return std::vector<Tensor>{value};
}

}  // namespace petabox::nn
