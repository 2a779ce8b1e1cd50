#include "daemon/worker/runner.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "daemon/worker/checkpoint.h"
#include "daemon/worker/training_setup.h"
#include "devices/registry.h"
#include "engine/codegen/opt/optimize.h"
#include "engine/autograd.h"
#include "engine/data/idx.h"
#include "engine/data/npy.h"
#include "engine/exec_stats.h"
#include "daemon/graph/graph_proto.h"
#include "engine/nn/graph_model.h"
#include "engine/nn/image_input.h"
#include "engine/nn/models.h"

namespace petabox::worker {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// float16 steps that overflow in a row before the run counts as diverged: the loss scale
// has then fallen from 2^16 to 2^-24, where no gradient a model learns from overflows.
constexpr int64_t kMaxConsecutiveSkips = 40;
// Fashion-MNIST's pixel statistics after scaling to [0, 1] (training split).
constexpr float kFashionMnistMean = 0.2860f;
constexpr float kFashionMnistStd = 0.3530f;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// `scale` multiplies the raw features (1/255 for pixels). Fashion-MNIST is normalized with
// its statistics; uploaded .npy datasets are not normalized.
data::LoaderOptions TrainLoaderOptions(const JobSpec& spec, int prefetch, float scale) {
  data::LoaderOptions o;
  o.batch_size = spec.global_batch_size;
  o.shuffle = true;
  o.seed = spec.seed;
  o.drop_last = true;  // one batch shape, so the JIT replays every step
  o.scale = scale;
  if (spec.dataset.name == "fashion-mnist") {
    o.mean = {kFashionMnistMean};
    o.std = {kFashionMnistStd};
  }
  o.prefetch = prefetch;
  return o;
}

// The batch as (features, labels) tensors on `device`.
std::vector<Tensor> ToTensors(const HostBatch& batch, const std::string& device) {
  return {Tensor::FromData(batch.data(), batch.shape, batch.dtype, device),
          Tensor::FromData(batch.labels.data(), {batch.size()}, DType::kInt32, device)};
}

// The JPEG loader's options for the imagenet dataset: MLPerf's training or evaluation
// preprocessing at dataset.image_size.
data::JpegLoaderOptions ImageLoaderOptions(const JobSpec& spec, bool train, int prefetch, std::FILE* log) {
  data::JpegLoaderOptions o;
  o.batch_size = spec.global_batch_size;
  o.transform.size = static_cast<int>(spec.dataset.image_size);
  o.transform.resize_size = data::DefaultResizeSize(o.transform.size);
  o.transform.train = train;
  o.shuffle = train;
  o.seed = spec.seed;
  o.drop_last = train;  // one batch shape, so the JIT replays every step
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  o.threads = static_cast<int>(spec.dataset.decode_threads > 0 ? spec.dataset.decode_threads : cores);
  o.prefetch = std::max(1, prefetch);
  o.log = log ? log : stderr;
  return o;
}

// `limit` files of `folder` evenly spaced over it (every class keeps some), or all of them.
std::shared_ptr<const data::ImageFolder> EvenSubset(data::ImageFolder folder, int64_t limit) {
  if (limit <= 0 || limit >= folder.size()) return std::make_shared<const data::ImageFolder>(std::move(folder));
  data::ImageFolder out;
  out.dir = folder.dir;
  out.classes = folder.classes;
  for (int64_t j = 0; j < limit; ++j) {
    const int64_t i = j * folder.size() / limit;
    out.files.push_back(folder.files[i]);
    out.labels.push_back(folder.labels[i]);
  }
  return std::make_shared<const data::ImageFolder>(std::move(out));
}

// The batch split into one part per device (nn::SplitBatch's sizes), each uploaded from
// the host straight to its device: {images per device}, {labels per device}.
std::pair<std::vector<Tensor>, std::vector<Tensor>> SplitToDevices(const HostBatch& batch,
                                                                    const std::vector<std::string>& devices) {
  const int64_t per_example = batch.example_bytes();
  const uint8_t* data = static_cast<const uint8_t*>(batch.data());
  std::vector<Tensor> images, labels;
  int64_t first = 0;
  for (size_t i = 0; i < devices.size(); ++i) {
    const int64_t n = nn::SplitBatch(batch.size(), static_cast<int>(devices.size()))[i];
    Shape shape = batch.shape;
    shape[0] = n;
    images.push_back(Tensor::FromData(data + first * per_example, shape, batch.dtype, devices[i]));
    labels.push_back(Tensor::FromData(batch.labels.data() + first, {n}, DType::kInt32, devices[i]));
    first += n;
  }
  return {images, labels};
}

// Canonical names of the spec's devices (the default device when none is named).
StatusOr<std::vector<std::string>> ResolveDevices(const std::vector<std::string>& devices) {
  DeviceRegistry& registry = DeviceRegistry::Global();
  if (devices.empty()) return std::vector<std::string>{registry.DefaultDevice()};
  std::vector<std::string> names;
  for (const std::string& d : devices) {
    PB_ASSIGN_OR_RETURN(Device * device, registry.Get(d));
    names.push_back(device->properties().name);
  }
  return names;
}

// Fails when the checkpoint was written by a job whose data order or shapes differ.
Status CheckResumable(const CheckpointMeta& m, const JobSpec& spec, const std::string& path) {
  auto mismatch = [&](const std::string& what, const std::string& theirs, const std::string& ours) {
    return FailedPrecondition(path + ": written by a job with " + what + " " + theirs + ", this job has " + ours);
  };
  if (m.model != spec.model) return mismatch("model", m.model, spec.model);
  if (m.seed != spec.seed) return mismatch("seed", std::to_string(m.seed), std::to_string(spec.seed));
  if (m.global_batch_size != spec.global_batch_size) {
    return mismatch("global_batch_size", std::to_string(m.global_batch_size), std::to_string(spec.global_batch_size));
  }
  return Status::Ok();
}

}  // namespace

v1::RunSummary Summary(const RunResult& r) {
  v1::RunSummary s;
  s.set_test_accuracy(r.test_accuracy);
  s.set_test_loss(r.test_loss);
  s.set_train_samples_per_second(r.train_samples_per_second);
  s.set_achieved_flops_per_second(r.achieved_flops_per_second);
  s.set_epochs(r.epochs);
  s.set_steps(r.steps);
  s.set_final_loss(r.final_loss);
  s.set_seconds(r.seconds);
  s.set_preempted(r.preempted);
  s.set_checkpoint(r.checkpoint);
  return s;
}

Runner::Runner(const JobSpec& spec, RunnerOptions options, EventWriter* events)
    : spec_(spec), options_(std::move(options)), events_(events), rng_(spec.seed), last_loss_(kNaN) {
  last_eval_.accuracy = last_eval_.loss = kNaN;
}

Runner::~Runner() = default;

StatusOr<std::unique_ptr<Runner>> Runner::Create(const JobSpec& spec, RunnerOptions options, EventWriter* events) {
  if (options.progress_interval_steps < 1) options.progress_interval_steps = 1;
  if (spec.beam > 0) {  // the job's BEAM width for every kernel this worker compiles
    OptimizeOptions optimize = GetOptimizeOptions();
    optimize.beam = static_cast<int>(spec.beam);
    SetOptimizeOptions(optimize);
  }
  std::unique_ptr<Runner> runner(new Runner(spec, std::move(options), events));
  PB_ASSIGN_OR_RETURN(runner->devices_, ResolveDevices(spec.devices));
  PB_RETURN_IF_ERROR(runner->LoadData());
  PB_RETURN_IF_ERROR(runner->BuildModel());
  if (!runner->options_.resume_from.empty()) PB_RETURN_IF_ERROR(runner->Resume(runner->options_.resume_from));
  return runner;
}

Status Runner::LoadData() {
  if (spec_.dataset.dir.empty() && !spec_.dataset.source.empty()) {
    return FailedPrecondition("dataset.source '" + spec_.dataset.source +
                              "' is an uploaded dataset: run the job through petaboxd, or give dataset.dir");
  }
  if (spec_.dataset.name == "imagenet") return LoadImageNet();
  const std::string dir = spec_.dataset.dir.empty() ? data::kFashionMnistDir : spec_.dataset.dir;
  const bool npy = spec_.dataset.name == "npy";
  const auto load = npy ? data::LoadNpyDataset : data::LoadMnistFamily;
  PB_ASSIGN_OR_RETURN(train_, load(dir, data::Split::kTrain));
  PB_ASSIGN_OR_RETURN(test_, load(dir, data::Split::kTest));
  if (test_->feature_shape() != train_->feature_shape()) {
    return InvalidArgument(dir + ": train examples are " + ShapeToString(train_->feature_shape()) + ", test examples " +
                           ShapeToString(test_->feature_shape()));
  }
  // Uploaded float32 arrays are used as they are; pixels (uint8) are scaled to [0, 1].
  if (npy && dynamic_cast<const data::FloatDataset*>(train_.get()) != nullptr) feature_scale_ = 1.0f;
  if (spec_.dataset.train_limit > 0) train_ = data::Subset(train_, spec_.dataset.train_limit);
  if (spec_.dataset.test_limit > 0) test_ = data::Subset(test_, spec_.dataset.test_limit);
  PB_ASSIGN_OR_RETURN(std::unique_ptr<data::DataLoader> loader,
                      data::DataLoader::Create(train_, TrainLoaderOptions(spec_, options_.prefetch, feature_scale_)));
  loader_ = FromDataLoader(std::move(loader));
  total_steps_ = spec_.epochs * loader_->batches_per_epoch();
  if (spec_.max_steps > 0) total_steps_ = std::min(total_steps_, spec_.max_steps);
  return Status::Ok();
}

// An ImageNet-layout JPEG tree: its train/ and val/ folders, the model's class count
// checked against the folder's.
Status Runner::LoadImageNet() {
  const std::string& dir = spec_.dataset.dir;
  PB_ASSIGN_OR_RETURN(data::ImageFolder train, data::ScanImageNet(dir, data::Split::kTrain));
  PB_ASSIGN_OR_RETURN(data::ImageFolder val, data::ScanImageNet(dir, data::Split::kTest));
  PB_ASSIGN_OR_RETURN(int64_t model_classes, nn::ModelClasses(spec_.model));
  if (static_cast<int64_t>(train.classes.size()) > model_classes) {
    return InvalidArgument(dir + ": " + std::to_string(train.classes.size()) + " classes, more than model '" +
                           spec_.model + "' has outputs (" + std::to_string(model_classes) + ")");
  }
  train_images_ = EvenSubset(std::move(train), spec_.dataset.train_limit);
  test_images_ = EvenSubset(std::move(val), spec_.dataset.test_limit);
  PB_ASSIGN_OR_RETURN(std::unique_ptr<data::JpegLoader> loader,
                      data::JpegLoader::Create(train_images_, ImageLoaderOptions(spec_, /*train=*/true,
                                                                                 options_.prefetch, options_.log)));
  loader_ = FromJpegLoader(std::move(loader));
  total_steps_ = spec_.epochs * loader_->batches_per_epoch();
  if (spec_.max_steps > 0) total_steps_ = std::min(total_steps_, spec_.max_steps);
  return Status::Ok();
}

StatusOr<std::unique_ptr<BatchSource>> Runner::EvalSource() {
  if (test_images_) {
    data::JpegLoaderOptions o = ImageLoaderOptions(spec_, /*train=*/false, options_.prefetch, options_.log);
    o.batch_size = std::max<int64_t>(1, std::min(options_.eval_batch_size, test_images_->size()));
    PB_ASSIGN_OR_RETURN(std::unique_ptr<data::JpegLoader> loader, data::JpegLoader::Create(test_images_, o));
    return FromJpegLoader(std::move(loader));
  }
  data::LoaderOptions o = TrainLoaderOptions(spec_, options_.prefetch, feature_scale_);
  o.batch_size = std::max<int64_t>(1, std::min(options_.eval_batch_size, test_->size()));
  o.shuffle = false;
  o.drop_last = false;
  PB_ASSIGN_OR_RETURN(std::unique_ptr<data::DataLoader> loader, data::DataLoader::Create(test_, o));
  return FromDataLoader(std::move(loader));
}

// The spec's model: from the zoo, or its training graph (read once, shared by the replicas),
// whose input must take the dataset's examples.
StatusOr<std::unique_ptr<nn::Module>> Runner::MakeSpecModel(Rng& rng) {
  if (spec_.model != "graph" && test_images_) {
    // JPEG batches arrive as uint8 NHWC; the model normalises them on its device.
    PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> model, nn::MakeModel(spec_.model, rng));
    return std::unique_ptr<nn::Module>(std::make_unique<nn::ImageInput>(std::move(model)));
  }
  if (spec_.model != "graph") return nn::MakeModel(spec_.model, rng);
  if (graph_ == nullptr) {
    PB_ASSIGN_OR_RETURN(graph::GraphIr g, graph::ReadGraphFile(spec_.graph));
    const int input = g.FindInput(graph::kInputName);
    if (input < 0 || g.FindInput(graph::kLabelName) < 0 || g.FindOutput(graph::kLogitsOutput) < 0) {
      return InvalidArgument(spec_.graph + ": a graph trained on a dataset needs inputs 'input' and 'label' and an "
                             "output 'logits'");
    }
    if (g.inputs[input].sample_shape != train_->feature_shape() || g.inputs[input].dtype != DType::kFloat32) {
      return InvalidArgument(spec_.graph + ": the graph's input 'input' takes " + Name(g.inputs[input].dtype) +
                             ShapeToString(g.inputs[input].sample_shape) + " examples, the dataset has float32" +
                             ShapeToString(train_->feature_shape()));
    }
    graph_ = std::make_shared<const graph::GraphIr>(std::move(g));
  }
  PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::GraphModel> m, nn::GraphModel::Create(graph_, rng));
  return std::unique_ptr<nn::Module>(std::move(m));
}

Status Runner::BuildModel() {
  PB_ASSIGN_OR_RETURN(model_, MakeSpecModel(rng_));
  if (devices_[0] != DeviceRegistry::Global().DefaultDevice()) PB_RETURN_IF_ERROR(nn::MoveToDevice(*model_, devices_[0]));
  PB_ASSIGN_OR_RETURN(optimizer_, MakeOptimizer(spec_.optimizer, model_->NamedParameters()));
  optimizer_->SetSchedule(MakeSchedule(spec_.schedule, spec_.optimizer.lr, loader_->batches_per_epoch(), total_steps_));
  PB_RETURN_IF_ERROR(BuildReplicas());
  std::vector<nn::Module*> replicas = {model_.get()};
  std::vector<nn::Optimizer*> optimizers = {optimizer_.get()};
  for (size_t i = 0; i < replicas_.size(); ++i) {
    replicas.push_back(replicas_[i].get());
    optimizers.push_back(replica_optimizers_[i].get());
  }
  nn::DataParallelOptions dp;
  dp.label_smoothing = spec_.label_smoothing;
  dp.use_jit = options_.use_jit;
  dp.sync_batchnorm = spec_.sync_batchnorm;
  PB_ASSIGN_OR_RETURN(dp.precision, nn::ParsePrecision(spec_.precision));
  PB_ASSIGN_OR_RETURN(step_runner_, nn::DataParallelStep::Create(replicas, optimizers, dp));
  return Status::Ok();
}

// The model copied to every other device, each with an optimizer of its own.
Status Runner::BuildReplicas() {
  for (size_t i = 1; i < devices_.size(); ++i) {
    Rng unused(0);  // the replica's initial values are overwritten by the model's
    PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> replica, MakeSpecModel(unused));
    PB_RETURN_IF_ERROR(nn::MoveToDevice(*replica, devices_[i]));
    PB_RETURN_IF_ERROR(nn::CopyModuleState(*model_, *replica));
    PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Optimizer> optimizer, MakeOptimizer(spec_.optimizer, replica->NamedParameters()));
    optimizer->SetSchedule(MakeSchedule(spec_.schedule, spec_.optimizer.lr, loader_->batches_per_epoch(), total_steps_));
    replicas_.push_back(std::move(replica));
    replica_optimizers_.push_back(std::move(optimizer));
  }
  return Status::Ok();
}

Status Runner::Resume(const std::string& path) {
  PB_ASSIGN_OR_RETURN(CheckpointMeta meta, LoadCheckpoint(path, *model_, *optimizer_));
  PB_RETURN_IF_ERROR(CheckResumable(meta, spec_, path));
  if (meta.step > total_steps_) {
    return FailedPrecondition(path + ": at step " + std::to_string(meta.step) + ", past this job's " +
                              std::to_string(total_steps_) + " steps");
  }
  PB_RETURN_IF_ERROR(loader_->Seek(meta.loader));
  rng_.set_state(meta.rng_state);
  for (auto& [module_path, rng] : ModuleRngs(*model_)) {
    if (meta.module_rngs.count(module_path)) rng->set_state(meta.module_rngs.at(module_path));
  }
  for (size_t i = 0; i < replicas_.size(); ++i) {
    PB_RETURN_IF_ERROR(nn::CopyModuleState(*model_, *replicas_[i]));
    PB_RETURN_IF_ERROR(nn::CopyOptimizerState(*optimizer_, *replica_optimizers_[i]));
  }
  step_ = meta.step;
  epoch_ = meta.loader.epoch;
  last_checkpoint_ = path;
  last_checkpoint_step_ = step_;
  v1::WorkerEvent event;
  v1::WorkerResumed* resumed = event.mutable_resumed();
  resumed->set_step(step_);
  resumed->set_epoch(epoch_);
  resumed->set_path(path);
  events_->Emit(std::move(event));
  return Status::Ok();
}

// Trains on the next batch and accounts its time, samples and FLOPs.
Status Runner::TrainOne() {
  const double start = Now();
  const int64_t flops_before = GetExecTotals().flops;
  PB_ASSIGN_OR_RETURN(HostBatch batch, loader_->Next());
  // One step (forward, loss, backward, gradient all-reduce, update) on every device; it
  // prepares the optimizers' per-step scalars itself.
  auto [images, labels] = SplitToDevices(batch, devices_);
  PB_ASSIGN_OR_RETURN(double loss, step_runner_->Run(images, labels, step_));
  epoch_ = batch.position.epoch;
  batch_ = batch.position.batch;
  // A float16 step that overflowed was skipped (nothing changed) and the scale lowered:
  // training goes on, unless it keeps overflowing.
  const int64_t skips = step_runner_->consecutive_skips();
  if (skips >= kMaxConsecutiveSkips) {
    return InvalidArgument("training diverged: " + std::to_string(skips) + " steps in a row overflowed in float16 " +
                           "up to step " + std::to_string(step_ + 1) + " (loss scale now " +
                           std::to_string(step_runner_->loss_scale()) + "); lower optimizer.lr or use bfloat16");
  }
  if (!std::isfinite(loss) && !step_runner_->last_step_skipped()) {
    return InvalidArgument("training diverged: the loss is " + std::to_string(loss) + " at step " +
                           std::to_string(step_ + 1) + " (epoch " + std::to_string(epoch_) + ", batch " +
                           std::to_string(batch_) + ", learning rate " +
                           std::to_string(optimizer_->learning_rate()) + "); lower optimizer.lr");
  }
  ++step_;
  if (std::isfinite(loss)) last_loss_ = loss;
  const double seconds = Now() - start;
  const int64_t flops = GetExecTotals().flops - flops_before;
  train_seconds_ += seconds;
  train_samples_ += batch.size();
  train_flops_ += flops;
  interval_seconds_ += seconds;
  interval_samples_ += batch.size();
  interval_flops_ += flops;
  ++interval_steps_;
  if (options_.on_step) options_.on_step(seconds, batch.size());
  return Status::Ok();
}

void Runner::ResetInterval() {
  interval_steps_ = interval_samples_ = interval_flops_ = 0;
  interval_seconds_ = 0;
}

void Runner::ReportProgress() {
  const double secs = interval_seconds_ > 0 ? interval_seconds_ : kNaN;
  const double samples_per_second = interval_samples_ / secs;
  const double flops_per_second = static_cast<double>(interval_flops_) / secs;
  const double eta = (total_steps_ - step_) * (secs / std::max<int64_t>(interval_steps_, 1));
  v1::WorkerEvent event;
  v1::WorkerProgress* p = event.mutable_progress();
  p->set_step(step_);
  p->set_total_steps(total_steps_);
  p->set_epoch(epoch_);
  p->set_batch(batch_);
  p->set_loss(last_loss_);
  p->set_learning_rate(optimizer_->learning_rate());
  p->set_samples_per_second(samples_per_second);
  p->set_achieved_flops_per_second(flops_per_second);
  p->set_eta_seconds(eta);
  p->set_loss_scale(step_runner_->loss_scale());
  p->set_skipped_steps(step_runner_->skipped_steps());
  events_->Emit(std::move(event));
  if (options_.log) {
    std::fprintf(options_.log, "step %lld/%lld  epoch %lld  loss %.4f  lr %.3g  %.0f samples/s  %.2f GFLOP/s  eta %.0fs",
                 static_cast<long long>(step_), static_cast<long long>(total_steps_), static_cast<long long>(epoch_),
                 last_loss_, optimizer_->learning_rate(), samples_per_second, flops_per_second / 1e9, eta);
    if (spec_.precision == "float16") {
      std::fprintf(options_.log, "  loss scale %g  skipped %lld", step_runner_->loss_scale(),
                   static_cast<long long>(step_runner_->skipped_steps()));
    }
    std::fprintf(options_.log, "\n");
    std::fflush(options_.log);
  }
  ResetInterval();
}

// The number of correct predictions and the summed loss of one test batch. The graph is
// built without gradients; the values are read after the NoGradGuard ends, because reading
// a tensor inside one fails in the engine (see the report on Tensor::ToDoubles).
StatusOr<std::pair<double, double>> Runner::EvalBatch(const HostBatch& batch) {
  std::vector<Tensor> in = ToTensors(batch, devices_[0]);
  Tensor hits, loss;
  {
    NoGradGuard no_grad;
    Tensor logits = model_->Forward(in[0]);
    hits = logits.Argmax(1).Eq(in[1]).Cast(DType::kFloat32).Sum();
    loss = logits.CrossEntropy(in[1]).Mul(static_cast<double>(batch.size()));
  }
  PB_RETURN_IF_ERROR(RealizeAll({&hits, &loss}));
  PB_ASSIGN_OR_RETURN(double h, hits.Item());
  PB_ASSIGN_OR_RETURN(double l, loss.Item());
  return std::make_pair(h, l);
}

StatusOr<EvalResult> Runner::Evaluate() {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<BatchSource> loader, EvalSource());
  model_->Eval();
  double correct = 0, loss_sum = 0;
  Status status;
  for (int64_t b = 0; b < loader->batches_per_epoch() && status.ok(); ++b) {
    StatusOr<HostBatch> batch = loader->Next();
    StatusOr<std::pair<double, double>> sums = batch.ok() ? EvalBatch(*batch) : batch.status();
    if (!sums.ok()) status = sums.status();
    else correct += sums->first, loss_sum += sums->second;
  }
  model_->Train();
  PB_RETURN_IF_ERROR(status);
  const double n = static_cast<double>(loader->examples());
  return EvalResult{correct / n, loss_sum / n, loader->examples()};
}

Status Runner::RunEval() {
  PB_ASSIGN_OR_RETURN(last_eval_, Evaluate());
  last_eval_step_ = step_;
  v1::WorkerEvent event;
  v1::WorkerEval* eval = event.mutable_eval();
  eval->set_step(step_);
  eval->set_epoch(epoch_);
  eval->set_test_accuracy(last_eval_.accuracy);
  eval->set_test_loss(last_eval_.loss);
  eval->set_examples(last_eval_.examples);
  events_->Emit(std::move(event));
  if (options_.log) {
    std::fprintf(options_.log, "eval at step %lld: test accuracy %.4f, test loss %.4f (%lld examples)\n",
                 static_cast<long long>(step_), last_eval_.accuracy, last_eval_.loss,
                 static_cast<long long>(last_eval_.examples));
    std::fflush(options_.log);
  }
  return Status::Ok();
}

StatusOr<std::string> Runner::SaveCheckpointNow() {
  if (spec_.checkpoint.dir.empty()) return FailedPrecondition("checkpoint.dir is not set: no checkpoint written");
  // The optimizer's step counter is the next step's index (a JIT replay does not advance it).
  PB_RETURN_IF_ERROR(optimizer_->PrepareStep(step_));
  CheckpointMeta meta;
  meta.step = step_;
  meta.loader = loader_->position();
  meta.rng_state = rng_.state();
  for (auto& [path, rng] : ModuleRngs(*model_)) meta.module_rngs[path] = rng->state();
  meta.model = spec_.model;
  meta.seed = spec_.seed;
  meta.global_batch_size = spec_.global_batch_size;
  const std::string path = CheckpointPath(spec_.checkpoint.dir, step_);
  PB_RETURN_IF_ERROR(SaveCheckpoint(path, *model_, *optimizer_, meta));
  last_checkpoint_ = path;
  last_checkpoint_step_ = step_;
  v1::WorkerEvent event;
  v1::WorkerCheckpoint* saved = event.mutable_checkpoint();
  saved->set_step(step_);
  saved->set_epoch(meta.loader.epoch);
  saved->set_path(path);
  events_->Emit(std::move(event));
  return path;
}

// Progress, evaluation and checkpoints due after the step just trained.
Status Runner::AfterStep(bool epoch_ended) {
  if (step_ % options_.progress_interval_steps == 0 || step_ == total_steps_) ReportProgress();
  const bool eval_due = (epoch_ended && spec_.eval.per_epoch) ||
                        (spec_.eval.interval_steps > 0 && step_ % spec_.eval.interval_steps == 0);
  if (eval_due) PB_RETURN_IF_ERROR(RunEval());
  if (spec_.checkpoint.interval_steps > 0 && step_ % spec_.checkpoint.interval_steps == 0) {
    PB_RETURN_IF_ERROR(SaveCheckpointNow().status());
  }
  return Status::Ok();
}

StatusOr<RunResult> Runner::Finish(bool preempted) {
  if (preempted) {
    if (!spec_.checkpoint.dir.empty() && last_checkpoint_step_ != step_) PB_RETURN_IF_ERROR(SaveCheckpointNow().status());
    v1::WorkerEvent event;
    v1::WorkerPreempted* stopped = event.mutable_preempted();
    stopped->set_step(step_);
    stopped->set_epoch(epoch_);
    if (!spec_.checkpoint.dir.empty()) stopped->set_checkpoint(last_checkpoint_);
    events_->Emit(std::move(event));
  } else {
    if (last_eval_step_ != step_) PB_RETURN_IF_ERROR(RunEval());
    if (!spec_.checkpoint.dir.empty() && last_checkpoint_step_ != step_) PB_RETURN_IF_ERROR(SaveCheckpointNow().status());
  }
  RunResult r;
  r.preempted = preempted;
  r.steps = step_;
  r.epochs = static_cast<double>(step_) / static_cast<double>(loader_->batches_per_epoch());
  r.final_loss = last_loss_;
  r.test_accuracy = last_eval_.accuracy;
  r.test_loss = last_eval_.loss;
  r.train_samples_per_second = train_seconds_ > 0 ? train_samples_ / train_seconds_ : kNaN;
  r.achieved_flops_per_second = train_seconds_ > 0 ? static_cast<double>(train_flops_) / train_seconds_ : kNaN;
  r.checkpoint = last_checkpoint_;
  return r;
}

StatusOr<RunResult> Runner::Run() {
  const double start = Now();
  v1::WorkerEvent started_event;
  v1::WorkerStarted* started = started_event.mutable_started();
  started->set_name(spec_.name);
  started->set_model(spec_.model);
  for (const std::string& d : devices_) started->add_devices(d);
  started->set_step(step_);
  started->set_total_steps(total_steps_);
  started->set_steps_per_epoch(loader_->batches_per_epoch());
  started->set_global_batch_size(spec_.global_batch_size);
  events_->Emit(std::move(started_event));
  model_->Train();
  bool preempted = false;
  while (step_ < total_steps_) {
    if (options_.stop_requested && options_.stop_requested->load()) {
      preempted = true;
      break;
    }
    PB_RETURN_IF_ERROR(TrainOne());
    PB_RETURN_IF_ERROR(AfterStep(/*epoch_ended=*/loader_->position().batch == 0));
  }
  PB_ASSIGN_OR_RETURN(RunResult result, Finish(preempted));
  result.seconds = Now() - start;
  if (!preempted) {
    v1::WorkerEvent done;
    *done.mutable_done() = Summary(result);
    events_->Emit(std::move(done));
  }
  return result;
}

}  // namespace petabox::worker
