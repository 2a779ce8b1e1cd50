// Turns the optimizer and schedule parts of a JobSpec into engine/nn objects.
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <memory>

#include "daemon/worker/job_spec.h"
#include "engine/nn/optim/lr_schedule.h"
#include "engine/nn/optim/optimizer.h"

namespace petabox::worker {

// The optimizer named by `spec` over `params`. InvalidArgument for an unknown name (a
// validated spec has none).
StatusOr<std::unique_ptr<nn::Optimizer>> MakeOptimizer(const OptimizerSpec& spec, nn::NamedTensorPtrs params);

// Warmup length in steps: warmup_steps, or warmup_epochs * steps_per_epoch rounded.
int64_t WarmupSteps(const ScheduleSpec& spec, int64_t steps_per_epoch);

// The learning rate per step for a run of `total_steps` steps with peak `lr`.
nn::LrSchedule MakeSchedule(const ScheduleSpec& spec, double lr, int64_t steps_per_epoch, int64_t total_steps);

}  // namespace petabox::worker
