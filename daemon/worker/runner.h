// Runner: trains one job (a JobSpec) in this process: loads the data, builds the model
// (nn::MakeModel, or the spec's training graph: nn::GraphModel) and optimizer, runs the
// steps (forward, loss, backward, update; replayed through engine/jit.h after two warm-up
// steps), evaluates, checkpoints, and
// reports progress as events (daemon/worker/events.h). petabox-worker is a thin main
// around it; the daemon runs it in a worker process per job.
//
// On several devices (spec.devices) training is data-parallel (engine/nn/data_parallel.h):
// a replica of the model and of the optimizer on every device, each global batch split
// across them, gradients all-reduced. The first device's replica is the model: evaluation
// runs on it, checkpoints save it (one copy of the weights, the same file a one-device job
// writes), and a resume loads it and copies it to the other replicas.
//
// Events (proto/petabox/v1/worker.proto): `resumed`, `started`, `progress` (every
// progress_interval_steps steps and after the last), `eval`, `checkpoint`, and at the end
// `done` (RunSummary) or `preempted`. `usage` is petabox-worker's (usage_meter.h); `error`
// is the caller's to emit, from the Status that Create or Run returns.
//
// Threading: one thread calls Create and Run. Preemption: when *stop_requested becomes
// true (a SIGTERM handler may set it), Run checkpoints at the next step boundary and
// returns a result with preempted = true.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/worker/batch_source.h"
#include "daemon/worker/events.h"
#include "daemon/worker/job_spec.h"
#include "engine/data/image_folder.h"
#include "engine/data/loader.h"
#include "engine/graph_ir/graph_ir.h"
#include "engine/jit.h"
#include "engine/nn/data_parallel.h"
#include "engine/nn/module.h"
#include "engine/nn/optim/optimizer.h"
#include "engine/random.h"

namespace petabox::worker {

struct RunnerOptions {
  // Continue from this checkpoint file (daemon/worker/checkpoint.h); "" starts afresh.
  std::string resume_from;
  // Replay training steps through the JIT (same results, less host work per step).
  bool use_jit = true;
  // A `progress` event every N steps, and after the last step; >= 1.
  int64_t progress_interval_steps = 10;
  // Human-readable progress lines go here; null writes none.
  std::FILE* log = nullptr;
  // Polled at every step boundary; true stops the run with a checkpoint. Null: never.
  const std::atomic<bool>* stop_requested = nullptr;
  // Training batches prepared ahead on the loader's thread; 0: none. (imagenet: at least
  // 1, decoded by dataset.decode_threads threads.)
  int prefetch = 2;
  // Examples per evaluation batch (capped at the test split's size).
  int64_t eval_batch_size = 1000;
  // Called after every training step with its wall time and examples (petabox-worker's
  // usage meter, daemon/worker/usage_meter.h, counts them and emits `usage` events from
  // here, on the runner's thread). Empty: nothing is called.
  std::function<void(double seconds, int64_t samples)> on_step;
};

struct EvalResult {
  double accuracy = 0;  // fraction of the test split classified correctly
  double loss = 0;      // mean cross-entropy (without label smoothing)
  int64_t examples = 0;
};

struct RunResult {
  bool preempted = false;
  int64_t steps = 0;                     // optimizer steps applied in total (incl. before a resume)
  double epochs = 0;                     // steps / steps per epoch
  double final_loss = 0;                 // training loss of the last step (NaN if none ran)
  double test_accuracy = 0;              // of the last evaluation (NaN if none ran)
  double test_loss = 0;
  double train_samples_per_second = 0;   // over the training steps of this process
  double achieved_flops_per_second = 0;  // counted kernel FLOPs / training time, this process
  double seconds = 0;                    // wall time of Run
  std::string checkpoint;                // the latest checkpoint of the job (written, or resumed from; "" if none)
};

// The result as the `done` event carries it and petabox-worker --json prints it.
v1::RunSummary Summary(const RunResult& result);

class Runner {
 public:
  // Loads the data, builds everything, and restores options.resume_from if set. `spec`
  // must be valid (ParseJobSpec or ValidateJobSpec said so, once, where it came in: the
  // runner checks it no more). `events` must outlive the runner. Errors: the dataset is
  // missing or corrupt, a device does not exist, the graph does not fit the dataset, the
  // checkpoint does not exist or does not match the spec.
  static StatusOr<std::unique_ptr<Runner>> Create(const JobSpec& spec, RunnerOptions options, EventWriter* events);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Trains to the end (epochs, or max_steps), evaluating and checkpointing as the spec
  // says, or until preempted. Fails with the step and the loss when the loss becomes NaN or
  // infinite (in float16: when 40 steps in a row overflowed; a single overflowed step is
  // skipped and reported in progress events), and on engine errors.
  StatusOr<RunResult> Run();

  // Accuracy and loss on the test split with the current weights.
  StatusOr<EvalResult> Evaluate();
  // Writes a checkpoint of the current state to the spec's checkpoint dir and emits a
  // `checkpoint` event; FailedPrecondition when checkpoint.dir is empty.
  StatusOr<std::string> SaveCheckpointNow();

  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t steps_per_epoch() const { return loader_->batches_per_epoch(); }
  // The model (on multiple devices: the first device's replica).
  nn::Module& model() { return *model_; }
  // The devices training runs on, canonical names.
  const std::vector<std::string>& devices() const { return devices_; }
  // Replica i of the model (0 is model()); i < devices().size().
  nn::Module& replica(size_t i) { return i == 0 ? *model_ : *replicas_[i - 1]; }

 private:
  Runner(const JobSpec& spec, RunnerOptions options, EventWriter* events);
  Status LoadData();
  Status LoadImageNet();
  // A loader over the test split, in order, without augmentation.
  StatusOr<std::unique_ptr<BatchSource>> EvalSource();
  Status BuildModel();
  StatusOr<std::unique_ptr<nn::Module>> MakeSpecModel(Rng& rng);
  Status BuildReplicas();
  Status Resume(const std::string& path);
  Status TrainOne();
  Status AfterStep(bool epoch_ended);
  void ReportProgress();
  StatusOr<std::pair<double, double>> EvalBatch(const HostBatch& batch);
  Status RunEval();
  StatusOr<RunResult> Finish(bool preempted);
  void ResetInterval();

  const JobSpec spec_;
  const RunnerOptions options_;
  EventWriter* const events_;
  std::vector<std::string> devices_;  // canonical; devices_[0] holds model_
  Rng rng_;
  std::shared_ptr<const data::Dataset> train_, test_;                  // fashion-mnist, npy
  std::shared_ptr<const data::ImageFolder> train_images_, test_images_;  // imagenet
  float feature_scale_ = 1.0f / 255.0f;  // raw features -> the loader's input (npy float32: 1)
  std::unique_ptr<BatchSource> loader_;  // the training batches
  std::unique_ptr<nn::Module> model_;
  std::shared_ptr<const graph::GraphIr> graph_;  // model "graph": the spec's graph
  std::unique_ptr<nn::Optimizer> optimizer_;
  // Replicas and their optimizers on devices_[1..] (empty on one device).
  std::vector<std::unique_ptr<nn::Module>> replicas_;
  std::vector<std::unique_ptr<nn::Optimizer>> replica_optimizers_;
  std::unique_ptr<nn::DataParallelStep> step_runner_;  // the training step, on every device

  int64_t step_ = 0;
  int64_t total_steps_ = 0;
  int64_t epoch_ = 0;  // epoch of the last trained batch
  int64_t batch_ = 0;  // its index in the epoch
  double last_loss_ = 0;  // NaN until a step ran (set in the constructor)
  EvalResult last_eval_;
  int64_t last_eval_step_ = -1;
  std::string last_checkpoint_;
  int64_t last_checkpoint_step_ = -1;

  // Training-time accounting (this process): all steps, and the current progress interval.
  double train_seconds_ = 0;
  int64_t train_samples_ = 0;
  int64_t train_flops_ = 0;
  int64_t interval_steps_ = 0;
  double interval_seconds_ = 0;
  int64_t interval_samples_ = 0;
  int64_t interval_flops_ = 0;
};

}  // namespace petabox::worker
