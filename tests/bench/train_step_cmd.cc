#include "tests/bench/train_step_cmd.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "devices/registry.h"
#include "engine/exec_stats.h"
#include "engine/nn/data_parallel.h"
#include "engine/nn/models.h"
#include "engine/nn/optim/adam.h"
#include "engine/nn/train_step.h"
#include "engine/random.h"
#include "tests/bench/peer_runner.h"

namespace petabox::bench {
namespace {

constexpr int64_t kClasses = 10;
constexpr int kMinWarmup = 3;  // call 1 compiles, call 2 captures, call 3 is the first replay

// Nominal FLOPs of one training step: 2 x multiply-adds of the conv and linear layers, for
// the forward pass, the weight gradients and the input gradients (none for the first
// layer, whose input needs no gradient). Elementwise work, pooling and Adam are left out.
// Per sample, from engine/nn/models.h's layer shapes.
std::optional<double> ModelFlopsPerSample(const std::string& model) {
  std::vector<double> macs;  // per layer, first layer first
  if (model == "mlp") macs = {784.0 * 512, 512.0 * 10};
  if (model == "cnn") macs = {28.0 * 28 * 32 * 25, 14.0 * 14 * 64 * 32 * 25, 3136.0 * 1024, 1024.0 * 10};
  if (macs.empty()) return std::nullopt;
  double sum = 0;
  for (double m : macs) sum += m;
  return 2 * (3 * sum - macs.front());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// A realized random batch: images uniform in [0, 1), int32 labels in [0, kClasses).
Status MakeBatch(int64_t batch, Rng& rng, Tensor* images, Tensor* labels) {
  *images = Tensor::Rand({batch, 1, 28, 28}, rng);
  std::vector<float> y(static_cast<size_t>(batch));
  for (float& v : y) v = static_cast<float>(rng.NextU64() % kClasses);
  *labels = Tensor::FromVector(y, {batch}, DType::kInt32);
  PB_RETURN_IF_ERROR(images->Realize());
  return labels->Realize();
}

Status CheckLoss(double loss, int64_t step) {
  if (std::isfinite(loss)) return Status::Ok();
  return Internal("loss is " + std::to_string(loss) + " at step " + std::to_string(step));
}

// One training step: TrainStep on the default device, or DataParallelStep over devices.
class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual StatusOr<double> Run(int64_t step) = 0;
  virtual size_t captured_ops() const = 0;
};

// `warmup` untimed steps, then `steps` timed ones.
StatusOr<TrainRun> TimeSteps(Stepper& stepper, const std::string& device, int steps, int warmup) {
  TrainRun run;
  run.device = device;
  run.steps = steps;
  run.warmup = warmup;
  int64_t step = 0;
  for (; step < warmup; ++step) {
    PB_ASSIGN_OR_RETURN(double loss, stepper.Run(step));
    PB_RETURN_IF_ERROR(CheckLoss(loss, step));
    if (step == 0) run.first_loss = loss;
  }
  std::vector<double> times;
  ExecTotals before = GetExecTotals();
  auto total_start = std::chrono::steady_clock::now();
  for (; step < warmup + steps; ++step) {
    auto start = std::chrono::steady_clock::now();
    PB_ASSIGN_OR_RETURN(double loss, stepper.Run(step));
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    PB_RETURN_IF_ERROR(CheckLoss(loss, step));
    run.last_loss = loss;
  }
  run.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - total_start).count();
  ExecTotals after = GetExecTotals();
  run.median_seconds = Median(times);
  run.kernels_per_step = (after.kernels - before.kernels) / steps;
  run.counted_flops_per_step = (after.flops - before.flops) / steps;
  run.kernel_seconds_per_step = (after.seconds - before.seconds) / steps;
  run.captured_ops = stepper.captured_ops();
  return run;
}

// Replicas of `model_name` (seed 0) on `devices`, Adam on each, random parts of `batch`
// examples per device.
class DataParallelStepper : public Stepper {
 public:
  static StatusOr<std::unique_ptr<Stepper>> Create(const std::string& model_name, int64_t batch,
                                                   const std::vector<std::string>& devices, bool jit) {
    auto s = std::make_unique<DataParallelStepper>();
    Rng rng(0);
    std::vector<nn::Module*> replicas;
    std::vector<nn::Optimizer*> optimizers;
    for (size_t i = 0; i < devices.size(); ++i) {
      Rng unused(1);
      PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> m, nn::MakeModel(model_name, i == 0 ? rng : unused));
      PB_RETURN_IF_ERROR(nn::MoveToDevice(*m, devices[i]));
      if (i > 0) PB_RETURN_IF_ERROR(nn::CopyModuleState(*s->models_[0], *m));
      s->optimizers_.push_back(std::make_unique<nn::Adam>(m->NamedParameters(), nn::AdamOptions{.lr = 1e-3}));
      s->models_.push_back(std::move(m));
      replicas.push_back(s->models_.back().get());
      optimizers.push_back(s->optimizers_.back().get());
      Tensor images, labels;
      PB_RETURN_IF_ERROR(MakeBatch(batch, rng, &images, &labels));
      s->images_.push_back(images.To(devices[i]));
      s->labels_.push_back(labels.To(devices[i]));
      PB_RETURN_IF_ERROR(s->images_.back().Realize());
      PB_RETURN_IF_ERROR(s->labels_.back().Realize());
    }
    PB_ASSIGN_OR_RETURN(s->step_, nn::DataParallelStep::Create(replicas, optimizers, {.use_jit = jit}));
    return std::unique_ptr<Stepper>(std::move(s));
  }
  StatusOr<double> Run(int64_t step) override { return step_->Run(images_, labels_, step); }
  size_t captured_ops() const override { return step_->captured_ops(); }

 private:
  std::vector<std::unique_ptr<nn::Module>> models_;
  std::vector<std::unique_ptr<nn::Optimizer>> optimizers_;
  std::vector<Tensor> images_, labels_;
  std::unique_ptr<nn::DataParallelStep> step_;
};

}  // namespace

StatusOr<TrainRun> BenchTrainStep(const std::string& model_name, int64_t batch, int steps, int warmup, bool jit,
                                  const std::vector<std::string>& devices) {
  if (!devices.empty()) {
    PB_ASSIGN_OR_RETURN(std::unique_ptr<Stepper> stepper, DataParallelStepper::Create(model_name, batch, devices, jit));
    std::string list;
    for (const std::string& d : devices) list += (list.empty() ? "" : ",") + d;
    return TimeSteps(*stepper, list, steps, warmup);
  }
  Rng rng(0);
  PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> model, nn::MakeModel(model_name, rng));
  nn::Adam adam(model->NamedParameters(), nn::AdamOptions{.lr = 1e-3});
  nn::TrainStep train(*model, adam, {.use_jit = jit});
  Tensor images, labels;
  PB_RETURN_IF_ERROR(MakeBatch(batch, rng, &images, &labels));
  struct Single : Stepper {
    nn::TrainStep* train;
    Tensor images, labels;
    StatusOr<double> Run(int64_t step) override { return train->Run(images, labels, step); }
    size_t captured_ops() const override { return train->captured_ops(); }
  } single;
  single.train = &train;
  single.images = images;
  single.labels = labels;
  return TimeSteps(single, DeviceRegistry::Global().DefaultDevice(), steps, warmup);
}

namespace {

// The engine's CPU thread count: the device registry's default pool size.
int EngineThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

struct TrainArgs {
  std::string model;
  int64_t batch = 128;
  int steps = 20, warmup = kMinWarmup, threads = 1;
  bool jit = true;
  std::vector<std::string> devices;  // data parallel over these; empty: TrainStep on the default device
  int64_t global_batch() const { return batch * static_cast<int64_t>(std::max<size_t>(1, devices.size())); }
};

// Parses the subcommand's flags; returns an error message or "".
std::string ParseTrainArgs(Flags& flags, TrainArgs* a) {
  auto model = flags.find("--model");
  if (model == flags.end()) return "train-step needs --model (one of: mlp, cnn)";
  a->model = model->second;
  flags.erase(model);
  if (!ModelFlopsPerSample(a->model)) return "unknown model '" + a->model + "' (known models: mlp, cnn)";
  std::optional<int64_t> batch = IntFlag(flags, "--batch", 128), steps = IntFlag(flags, "--steps", 20),
                         warmup = IntFlag(flags, "--warmup", kMinWarmup),
                         threads = IntFlag(flags, "--threads", EngineThreads());
  if (!batch || !steps || !warmup || !threads) return "--batch, --steps, --warmup and --threads must be positive integers";
  if (*warmup < kMinWarmup) return "--warmup must be at least 3 (compile, capture, first replay)";
  if (auto jit = flags.find("--jit"); jit != flags.end()) {
    if (jit->second != "0" && jit->second != "1") return "--jit must be 0 or 1";
    a->jit = jit->second == "1";
    flags.erase(jit);
  }
  if (auto devices = flags.find("--devices"); devices != flags.end()) {
    for (size_t start = 0; start <= devices->second.size();) {
      size_t end = std::min(devices->second.find(',', start), devices->second.size());
      if (end > start) a->devices.push_back(devices->second.substr(start, end - start));
      start = end + 1;
    }
    flags.erase(devices);
    if (a->devices.empty()) return "--devices needs a comma-separated list of devices";
  }
  if (!flags.empty()) return "unknown flag " + flags.begin()->first;
  a->batch = *batch;
  a->steps = static_cast<int>(*steps);
  a->warmup = static_cast<int>(*warmup);
  a->threads = static_cast<int>(*threads);
  return "";
}

// The figures both the text and the JSON report print.
struct Derived {
  double samples_per_second = 0;
  double model_flops = 0;                    // nominal, per step
  double gflops = 0;                         // counted FLOPs over the median step
  std::optional<double> kernel_gflops;       // counted FLOPs over time in kernels
  std::optional<double> peer_model_gflops;   // nominal FLOPs over torch's median step
  std::optional<double> ratio;               // engine / torch samples/s
};

Derived Derive(const TrainArgs& a, const TrainRun& run, const TorchPeerResult& peer) {
  Derived d;
  d.samples_per_second = static_cast<double>(a.global_batch()) / run.median_seconds;
  d.model_flops = *ModelFlopsPerSample(a.model) * static_cast<double>(a.global_batch());
  d.gflops = static_cast<double>(run.counted_flops_per_step) / run.median_seconds / 1e9;
  if (run.kernel_seconds_per_step > 0)
    d.kernel_gflops = static_cast<double>(run.counted_flops_per_step) / run.kernel_seconds_per_step / 1e9;
  if (peer.available()) {
    d.peer_model_gflops = d.model_flops / *peer.seconds / 1e9;
    d.ratio = d.samples_per_second / *peer.samples_per_second;
  }
  return d;
}

void PrintText(const TrainArgs& a, const TrainRun& run, const TorchPeerResult& peer, const Derived& d) {
  std::printf("engine  train-step %s batch %lld on %s (%d threads, jit %s): median %.4g ms/step over %d steps "
              "(total %.4g s) -> %.4g samples/s\n",
              a.model.c_str(), static_cast<long long>(a.global_batch()), run.device.c_str(), EngineThreads(),
              a.jit ? "on" : "off", run.median_seconds * 1e3, run.steps, run.total_seconds, d.samples_per_second);
  std::printf("        %lld kernels/step (%zu captured), %.4g ms/step in kernels; counted %.4g GFLOP/step -> "
              "%s GFLOP/s in kernels, %.4g GFLOP/s over the step; nominal %.4g GFLOP/step -> %.4g GFLOP/s; "
              "loss %.4g -> %.4g\n",
              static_cast<long long>(run.kernels_per_step), run.captured_ops, run.kernel_seconds_per_step * 1e3,
              static_cast<double>(run.counted_flops_per_step) / 1e9, Num(d.kernel_gflops).c_str(), d.gflops,
              d.model_flops / 1e9, d.model_flops / run.median_seconds / 1e9, run.first_loss, run.last_loss);
  if (run.device.rfind("CPU", 0) != 0 && a.devices.empty())
    std::printf("note    the engine ran on %s; the torch peer runs on the CPU\n", run.device.c_str());
  if (!peer.available()) {
    std::printf("peer    torch unavailable: %s\n", peer.reason.c_str());
    return;
  }
  std::printf("peer    torch %s (%d thread%s): median %.4g ms/step (total %.4g s) -> %.4g samples/s, "
              "nominal %.4g GFLOP/s\n",
              peer.version.c_str(), peer.threads.value_or(0), peer.threads.value_or(0) == 1 ? "" : "s",
              *peer.seconds * 1e3, peer.total_seconds.value_or(0),
              *peer.samples_per_second, *d.peer_model_gflops);
  std::printf("ratio   engine/torch samples/s = %.3g\n", *d.ratio);
  if (peer.threads && *peer.threads != EngineThreads()) {
    std::printf("note    torch ran on %d thread%s, the engine on %d (its pool size is fixed)\n", *peer.threads,
                *peer.threads == 1 ? "" : "s", EngineThreads());
  }
}

// The last line: one flat JSON object (peer fields null, with peer_error, when torch did not run).
void PrintJson(const TrainArgs& a, const TrainRun& run, const TorchPeerResult& peer, const Derived& d) {
  std::printf("{\"op\":\"train-step\",\"model\":%s,\"batch\":%lld,\"global_batch\":%lld,\"n_devices\":%zu,"
              "\"steps\":%d,\"warmup\":%d,\"device\":%s,"
              "\"threads\":%d,\"jit\":%s,\"seconds\":%s,\"total_seconds\":%s,\"samples_per_second\":%s,"
              "\"kernels\":%lld,\"captured_ops\":%zu,\"kernel_seconds\":%s,\"counted_flops\":%lld,"
              "\"kernel_gflops\":%s,\"gflops\":%s,\"model_flops\":%.0f,\"model_gflops\":%s,"
              "\"first_loss\":%s,\"last_loss\":%s,",
              Quote(a.model).c_str(), static_cast<long long>(a.batch), static_cast<long long>(a.global_batch()),
              std::max<size_t>(1, a.devices.size()), run.steps, run.warmup,
              Quote(run.device).c_str(), EngineThreads(), a.jit ? "true" : "false", Num(run.median_seconds).c_str(),
              Num(run.total_seconds).c_str(), Num(d.samples_per_second).c_str(),
              static_cast<long long>(run.kernels_per_step), run.captured_ops, Num(run.kernel_seconds_per_step).c_str(),
              static_cast<long long>(run.counted_flops_per_step), Num(d.kernel_gflops).c_str(), Num(d.gflops).c_str(),
              d.model_flops, Num(d.model_flops / run.median_seconds / 1e9).c_str(), Num(run.first_loss).c_str(),
              Num(run.last_loss).c_str());
  std::optional<double> peer_threads;
  if (peer.threads) peer_threads = *peer.threads;
  std::printf("\"peer\":\"torch\",\"peer_version\":%s,\"peer_threads\":%s,\"peer_seconds\":%s,"
              "\"peer_total_seconds\":%s,\"peer_samples_per_second\":%s,\"peer_model_gflops\":%s,"
              "\"peer_error\":%s,\"ratio\":%s}\n",
              peer.available() ? Quote(peer.version).c_str() : "null", Num(peer_threads).c_str(),
              Num(peer.seconds).c_str(), Num(peer.total_seconds).c_str(), Num(peer.samples_per_second).c_str(),
              Num(d.peer_model_gflops).c_str(), peer.available() ? "null" : Quote(peer.reason).c_str(),
              Num(d.ratio).c_str());
}

}  // namespace

int TrainStepCommand(Flags flags, std::string* usage_error) {
  TrainArgs a;
  if (std::string error = ParseTrainArgs(flags, &a); !error.empty()) {
    *usage_error = error;
    return 2;
  }
  StatusOr<TrainRun> run = BenchTrainStep(a.model, a.batch, a.steps, a.warmup, a.jit, a.devices);
  if (!run.ok()) {
    std::fprintf(stderr, "petabox-bench: engine failed: %s\n", run.status().ToString().c_str());
    return 1;
  }
  TorchPeerResult peer;
  if (a.devices.empty()) {
    peer = RunTorchPeer({"train-step", "--model", a.model, "--batch", std::to_string(a.batch), "--steps",
                         std::to_string(a.steps), "--warmup", std::to_string(a.warmup), "--threads",
                         std::to_string(a.threads)});
  } else {
    peer.reason = "no peer for data-parallel runs (--devices)";
  }
  Derived d = Derive(a, *run, peer);
  PrintText(a, *run, peer, d);
  PrintJson(a, *run, peer, d);
  return 0;
}

}  // namespace petabox::bench
