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

}  // namespace

StatusOr<TrainRun> BenchTrainStep(const std::string& model_name, int64_t batch, int steps, int warmup, bool jit) {
  Rng rng(0);
  PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> model, nn::MakeModel(model_name, rng));
  nn::Adam adam(model->NamedParameters(), nn::AdamOptions{.lr = 1e-3});
  nn::TrainStep train(*model, adam, {.use_jit = jit});
  Tensor images, labels;
  PB_RETURN_IF_ERROR(MakeBatch(batch, rng, &images, &labels));

  TrainRun run;
  run.device = DeviceRegistry::Global().DefaultDevice();
  run.steps = steps;
  run.warmup = warmup;
  int64_t step = 0;
  for (; step < warmup; ++step) {
    PB_ASSIGN_OR_RETURN(double loss, train.Run(images, labels, step));
    PB_RETURN_IF_ERROR(CheckLoss(loss, step));
    if (step == 0) run.first_loss = loss;
  }
  std::vector<double> times;
  ExecTotals before = GetExecTotals();
  auto total_start = std::chrono::steady_clock::now();
  for (; step < warmup + steps; ++step) {
    auto start = std::chrono::steady_clock::now();
    PB_ASSIGN_OR_RETURN(double loss, train.Run(images, labels, step));
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
  run.captured_ops = train.captured_ops();
  return run;
}

namespace {

// The engine's CPU thread count: the device registry's default pool size.
int EngineThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

struct TrainArgs {
  std::string model;
  int64_t batch = 128;
  int steps = 20, warmup = kMinWarmup, threads = 1;
  bool jit = true;
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
  d.samples_per_second = a.batch / run.median_seconds;
  d.model_flops = *ModelFlopsPerSample(a.model) * a.batch;
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
              a.model.c_str(), static_cast<long long>(a.batch), run.device.c_str(), EngineThreads(),
              a.jit ? "on" : "off", run.median_seconds * 1e3, run.steps, run.total_seconds, d.samples_per_second);
  std::printf("        %lld kernels/step (%zu captured), %.4g ms/step in kernels; counted %.4g GFLOP/step -> "
              "%s GFLOP/s in kernels, %.4g GFLOP/s over the step; nominal %.4g GFLOP/step -> %.4g GFLOP/s; "
              "loss %.4g -> %.4g\n",
              static_cast<long long>(run.kernels_per_step), run.captured_ops, run.kernel_seconds_per_step * 1e3,
              static_cast<double>(run.counted_flops_per_step) / 1e9, Num(d.kernel_gflops).c_str(), d.gflops,
              d.model_flops / 1e9, d.model_flops / run.median_seconds / 1e9, run.first_loss, run.last_loss);
  if (run.device.rfind("CPU", 0) != 0)
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
  std::printf("{\"op\":\"train-step\",\"model\":%s,\"batch\":%lld,\"steps\":%d,\"warmup\":%d,\"device\":%s,"
              "\"threads\":%d,\"jit\":%s,\"seconds\":%s,\"total_seconds\":%s,\"samples_per_second\":%s,"
              "\"kernels\":%lld,\"captured_ops\":%zu,\"kernel_seconds\":%s,\"counted_flops\":%lld,"
              "\"kernel_gflops\":%s,\"gflops\":%s,\"model_flops\":%.0f,\"model_gflops\":%s,"
              "\"first_loss\":%s,\"last_loss\":%s,",
              Quote(a.model).c_str(), static_cast<long long>(a.batch), run.steps, run.warmup,
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
  StatusOr<TrainRun> run = BenchTrainStep(a.model, a.batch, a.steps, a.warmup, a.jit);
  if (!run.ok()) {
    std::fprintf(stderr, "petabox-bench: engine failed: %s\n", run.status().ToString().c_str());
    return 1;
  }
  TorchPeerResult peer = RunTorchPeer({"train-step", "--model", a.model, "--batch", std::to_string(a.batch),
                                       "--steps", std::to_string(a.steps), "--warmup", std::to_string(a.warmup),
                                       "--threads", std::to_string(a.threads)});
  Derived d = Derive(a, *run, peer);
  PrintText(a, *run, peer, d);
  PrintJson(a, *run, peer, d);
  return 0;
}

}  // namespace petabox::bench
