#include "daemon/worker/training_setup.h"

#include <cmath>

#include "engine/nn/optim/adam.h"
#include "engine/nn/optim/lars.h"
#include "engine/nn/optim/sgd.h"

namespace petabox::worker {

StatusOr<std::unique_ptr<nn::Optimizer>> MakeOptimizer(const OptimizerSpec& spec, nn::NamedTensorPtrs params) {
  if (spec.name == "sgd") {
    nn::SgdOptions o{.lr = spec.lr, .momentum = spec.momentum, .weight_decay = spec.weight_decay,
                     .nesterov = spec.nesterov};
    return std::unique_ptr<nn::Optimizer>(std::make_unique<nn::Sgd>(std::move(params), o));
  }
  if (spec.name == "adam" || spec.name == "adamw") {
    nn::AdamOptions o{.lr = spec.lr, .beta1 = spec.betas[0], .beta2 = spec.betas[1], .eps = spec.eps,
                      .weight_decay = spec.weight_decay, .decoupled_weight_decay = spec.name == "adamw"};
    return std::unique_ptr<nn::Optimizer>(std::make_unique<nn::Adam>(std::move(params), o));
  }
  if (spec.name == "lars") {
    nn::LarsOptions o{.lr = spec.lr, .momentum = spec.momentum, .weight_decay = spec.weight_decay,
                      .eta = spec.trust_coefficient};
    return std::unique_ptr<nn::Optimizer>(std::make_unique<nn::Lars>(std::move(params), o));
  }
  return InvalidArgument("optimizer.name: unknown optimizer '" + spec.name + "'");
}

int64_t WarmupSteps(const ScheduleSpec& spec, int64_t steps_per_epoch) {
  if (spec.warmup_steps > 0) return spec.warmup_steps;
  return static_cast<int64_t>(std::llround(spec.warmup_epochs * static_cast<double>(steps_per_epoch)));
}

nn::LrSchedule MakeSchedule(const ScheduleSpec& spec, double lr, int64_t steps_per_epoch, int64_t total_steps) {
  const int64_t warmup = WarmupSteps(spec, steps_per_epoch);
  if (spec.name == "warmup_poly") return nn::WarmupPolynomialDecay(lr, warmup, total_steps, spec.end_lr, spec.power);
  if (spec.name == "warmup_cosine") return nn::WarmupCosineDecay(lr, warmup, total_steps, spec.end_lr);
  return nn::ConstantLr(lr);
}

}  // namespace petabox::worker
