// petabox-bench train-step: times whole training steps of a model-zoo model on the engine
// (nn::TrainStep, JIT-replayed) and the same model, batch and optimizer in PyTorch
// (tests/bench/torch_peer.py) on the same machine in the same run.
//
//   petabox-bench train-step --model mlp|cnn [--batch 128] [--steps 20] [--warmup 3]
//                            [--threads T] [--jit 1] [--devices D1,D2,...]
//
// Both sides: Adam lr 1e-3, a random (batch, 1, 28, 28) float32 batch with random labels
// (the same batch every step), `--warmup` untimed steps (at least 3, so the engine's JIT has
// captured the step and compiled its kernels), then `--steps` timed steps; a step includes
// reading the loss to the host. Reported: median per-step time, total, samples/s, the
// engine's achieved GFLOP/s (from its exec-stats FLOP counts) and the nominal model FLOPs.
// --threads sets torch.set_num_threads; the default is the engine's CPU thread count
// (std::thread::hardware_concurrency). --jit 0 runs the engine without the JIT.
//
// Data parallel: --devices D1,D2,... trains replicas on those devices through
// nn::DataParallelStep (engine/nn/data_parallel.h), --batch examples per device (the
// global batch is batch x devices: weak scaling, so samples/s on N devices over N times
// samples/s on one is the scaling efficiency). The torch peer is skipped then.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/util/status.h"
#include "tests/bench/bench_util.h"

namespace petabox::bench {

// What the engine did in the timed steps.
struct TrainRun {
  std::string device;                  // e.g. "CPU:0"
  int steps = 0, warmup = 0;
  double median_seconds = 0;           // per step: PrepareStep, replay, loss read back
  double total_seconds = 0;            // all timed steps
  int64_t kernels_per_step = 0;        // from the exec stats
  int64_t counted_flops_per_step = 0;  // the engine's static FLOP count
  double kernel_seconds_per_step = 0;  // time inside kernels
  size_t captured_ops = 0;             // the JIT's capture (0 without it)
  double first_loss = 0, last_loss = 0;
};

// Builds `model` (nn::MakeModel, seed 0), Adam lr 1e-3 and a TrainStep, and times it; with
// `devices`, replicas on each and a DataParallelStep, `batch` examples per device.
// Errors: an unknown model, engine errors, a NaN or infinite loss (Internal).
StatusOr<TrainRun> BenchTrainStep(const std::string& model, int64_t batch, int steps, int warmup, bool jit,
                                  const std::vector<std::string>& devices = {});

// Runs the subcommand with its flags (those after "train-step"), prints the report and the
// JSON line, and returns the exit status: 0 on success (also when torch is unavailable), 1
// when the engine fails. On a usage error returns 2 with *usage_error set.
int TrainStepCommand(Flags flags, std::string* usage_error);

}  // namespace petabox::bench
