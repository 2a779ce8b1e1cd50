#include "engine/nn/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace petabox::nn {
namespace {

// Fraction of the decay phase done at `step` (0 at the end of warmup, 1 at total_steps).
double DecayProgress(int64_t step, int64_t warmup_steps, int64_t total_steps) {
  int64_t span = total_steps - warmup_steps;
  if (span <= 0) return 1.0;
  return std::clamp(static_cast<double>(step - warmup_steps) / static_cast<double>(span), 0.0, 1.0);
}

}  // namespace

LrSchedule ConstantLr(double lr) {
  return [lr](int64_t) { return lr; };
}

LrSchedule WarmupPolynomialDecay(double base_lr, int64_t warmup_steps, int64_t total_steps, double end_lr,
                                 double power) {
  return [=](int64_t step) {
    if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    double p = DecayProgress(step, warmup_steps, total_steps);
    return end_lr + (base_lr - end_lr) * std::pow(1.0 - p, power);
  };
}

LrSchedule WarmupCosineDecay(double base_lr, int64_t warmup_steps, int64_t total_steps, double min_lr) {
  return [=](int64_t step) {
    if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    double p = DecayProgress(step, warmup_steps, total_steps);
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  };
}

}  // namespace petabox::nn
