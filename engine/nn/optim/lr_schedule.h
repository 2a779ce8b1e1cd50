// Learning-rate schedules: plain functions from the 0-based step index (the number of
// updates already applied) to a learning rate. Attach one with Optimizer::SetSchedule.
#pragma once

#include <cstdint>
#include <functional>

namespace petabox::nn {

using LrSchedule = std::function<double(int64_t step)>;

// lr at every step.
LrSchedule ConstantLr(double lr);

// MLPerf ResNet's schedule: linear warmup base_lr * (step + 1) / warmup_steps for
// step < warmup_steps, then end_lr + (base_lr - end_lr) * (1 - p)^power with
// p = (step - warmup_steps) / (total_steps - warmup_steps) clamped to [0, 1]; so end_lr
// from total_steps on. power 2 is MLPerf's.
LrSchedule WarmupPolynomialDecay(double base_lr, int64_t warmup_steps, int64_t total_steps, double end_lr = 0,
                                 double power = 2);

// The same warmup, then min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2.
LrSchedule WarmupCosineDecay(double base_lr, int64_t warmup_steps, int64_t total_steps, double min_lr = 0);

}  // namespace petabox::nn
