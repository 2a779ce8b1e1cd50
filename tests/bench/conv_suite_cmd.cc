#include "tests/bench/conv_suite_cmd.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "tests/bench/bench_ops.h"
#include "tests/bench/peer_runner.h"

namespace petabox::bench {
namespace {

struct Layer {
  const char* name;
  int64_t cin, cout, size, kernel, stride, pad;
};

// One of each kind of convolution ResNet-50 runs, at its place in the network.
constexpr Layer kResnet50Layers[] = {
    {"conv1 7x7/2 3->64 @224", 3, 64, 224, 7, 2, 3},
    {"layer1 3x3 64->64 @56", 64, 64, 56, 3, 1, 1},
    {"layer1 1x1 256->64 @56", 256, 64, 56, 1, 1, 0},
    {"layer2 3x3/2 128->128 @56", 128, 128, 56, 3, 2, 1},
    {"layer2 3x3 128->128 @28", 128, 128, 28, 3, 1, 1},
    {"layer2 down 1x1/2 256->512 @56", 256, 512, 56, 1, 2, 0},
    {"layer3 3x3 256->256 @14", 256, 256, 14, 3, 1, 1},
    {"layer4 3x3 512->512 @7", 512, 512, 7, 3, 1, 1},
};

std::string SpecJson(const ConvSpec& c) {
  return "{\"batch\":" + std::to_string(c.batch) + ",\"cin\":" + std::to_string(c.cin) + ",\"cout\":" +
         std::to_string(c.cout) + ",\"h\":" + std::to_string(c.size) + ",\"w\":" + std::to_string(c.size) +
         ",\"kernel\":" + std::to_string(c.kernel) + ",\"stride\":" + std::to_string(c.stride) + ",\"pad\":" +
         std::to_string(c.pad) + ",\"pass\":\"" + c.pass + "\"}";
}

// Prints one layer's report lines and JSON line; returns its exit status.
int Report(const Layer& layer, const ConvSpec& spec, const std::string& dtype, const EngineRun& run,
           const PeerResult& peer) {
  const double flops = spec.flops();
  const double gflops = flops / run.median_seconds / 1e9;
  std::optional<double> kernel_gflops, ratio, kernel_ratio;
  if (run.kernel_seconds_per_iter > 0) kernel_gflops = flops / run.kernel_seconds_per_iter / 1e9;
  ratio = BlasRatio(gflops, peer);
  if (ratio && kernel_gflops) kernel_ratio = BlasRatio(*kernel_gflops, peer);
  std::printf("engine  conv2d %s %s batch %lld %s on %s: median %.4g s over %d iters -> %.4g GFLOP/s "
              "(%lld kernels/iter, %.4g s in kernels -> %s GFLOP/s)\n",
              layer.name, spec.pass.c_str(), static_cast<long long>(spec.batch), dtype.c_str(), run.device.c_str(), run.median_seconds,
              run.iters, gflops, static_cast<long long>(run.kernels_per_iter), run.kernel_seconds_per_iter,
              Num(kernel_gflops).c_str());
  const std::string blas = PeerBlasText(peer);
  if (ratio) {
    std::printf("peer    %s: median %.4g s -> %.4g GFLOP/s; ratio engine/peer = %.3g (in kernels: %s)%s%s\n",
                peer.name.c_str(), *peer.seconds, *peer.gflops, *ratio, Num(kernel_ratio).c_str(),
                blas.empty() ? "" : "; ", blas.c_str());
  } else if (peer.available() && peer.gflops) {
    std::printf("peer    %s: median %.4g s -> %.4g GFLOP/s; ratio %s; %s\n", peer.name.c_str(), *peer.seconds,
                *peer.gflops, RatioError(peer).c_str(), blas.c_str());
  } else {
    std::printf("peer    %s unavailable: %s\n", peer.name.c_str(), peer.reason.c_str());
  }
  std::printf("check   %d sampled elements vs naive C++ (double): max abs error %.3g, %s\n", run.checked,
              run.max_abs_error, run.correct() ? "OK" : "WRONG");
  std::printf("{\"op\":\"conv2d\",\"layer\":%s,\"dtype\":%s,\"shape\":%s,\"device\":%s,\"iters\":%d,\"flops\":%.0f,"
              "\"gflops\":%s,\"seconds\":%s,\"kernels\":%lld,\"counted_flops\":%lld,\"kernel_seconds\":%s,"
              "\"kernel_gflops\":%s,\"peer\":%s,\"peer_gflops\":%s,\"peer_seconds\":%s,\"peer_error\":%s%s,"
              "\"ratio\":%s,\"kernel_ratio\":%s,\"ratio_error\":%s,\"correct\":%s}\n",
              Quote(layer.name).c_str(), Quote(dtype).c_str(), SpecJson(spec).c_str(), Quote(run.device).c_str(),
              run.iters, flops, Num(gflops).c_str(), Num(run.median_seconds).c_str(),
              static_cast<long long>(run.kernels_per_iter), static_cast<long long>(run.counted_flops_per_iter),
              Num(run.kernel_seconds_per_iter).c_str(), Num(kernel_gflops).c_str(), Quote(peer.name).c_str(),
              Num(peer.gflops).c_str(), Num(peer.seconds).c_str(), peer.available() ? "null" : Quote(peer.reason).c_str(),
              PeerBlasJson(peer).c_str(), Num(ratio).c_str(), Num(kernel_ratio).c_str(),
              ratio ? "null" : Quote(RatioError(peer)).c_str(), run.correct() ? "true" : "false");
  return run.correct() ? 0 : 1;
}

// Runs one layer's pass on the engine and the peer; returns its exit status. For 16-bit types
// the peer's tensors are channels-last (NHWC), cuDNN's fast layout for its tensor cores.
int RunLayer(const Layer& layer, int64_t batch, DType dtype, int iters, const std::string& device,
             const std::string& pass) {
  ConvSpec spec{batch, layer.cin, layer.cout, layer.size, layer.kernel, layer.stride, layer.pad, pass};
  StatusOr<EngineRun> run = BenchConv2d(spec, dtype, iters, device);
  if (!run.ok()) {
    std::fprintf(stderr, "petabox-bench: engine failed on %s: %s\n", layer.name, run.status().ToString().c_str());
    std::printf("{\"op\":\"conv2d\",\"layer\":%s,\"dtype\":%s,\"shape\":%s,\"device\":%s,\"error\":%s,"
                "\"correct\":false}\n",
                Quote(layer.name).c_str(), Quote(Name(dtype)).c_str(), SpecJson(spec).c_str(), Quote(device).c_str(),
                Quote(run.status().ToString()).c_str());
    return 1;
  }
  auto s = [](int64_t v) { return std::to_string(v); };
  std::vector<std::string> args = {"conv2d", "--dtype", Name(dtype), "--iters", s(iters), "--batch", s(batch),
                                   "--channels", s(layer.cin), "--cout", s(layer.cout), "--size", s(layer.size),
                                   "--kernel", s(layer.kernel), "--stride", s(layer.stride), "--pad", s(layer.pad)};
  PeerResult peer;
  if (run->device.rfind("CUDA:", 0) == 0) {
    args.insert(args.end(), {"--pass", pass, dtype == DType::kFloat32 ? "--nchw" : "--channels-last"});
    peer = RunPeerForDevice(run->device, args);
  } else if (pass == "forward") {
    peer = RunPeerForDevice(run->device, args);
  } else {
    peer.reason = "the CPU peer (NumPy) times the forward pass only";
  }
  return Report(layer, spec, Name(dtype), *run, peer);
}

}  // namespace

int ConvSuiteCommand(Flags flags, std::string* usage_error) {
  flags.erase("--resnet50");
  std::string device = flags.count("--device") ? flags["--device"] : "";
  std::string dtype_name = flags.count("--dtype") ? flags["--dtype"] : "float32";
  std::string pass = flags.count("--pass") ? flags["--pass"] : "forward";
  flags.erase("--device");
  flags.erase("--dtype");
  flags.erase("--pass");
  std::vector<std::string> passes = {pass};
  if (pass == "all") passes = {"forward", "input-grad", "weight-grad"};
  else if (pass != "forward" && pass != "input-grad" && pass != "weight-grad")
    *usage_error = "--pass must be forward, input-grad, weight-grad or all";
  StatusOr<DType> dtype = ParseDType(dtype_name);
  std::optional<int64_t> batch = IntFlag(flags, "--batch", 32);
  std::optional<int64_t> iters = IntFlag(flags, "--iters", 5);
  if (!usage_error->empty()) return 2;
  if (!dtype.ok()) *usage_error = dtype.status().message();
  else if (!batch || !iters) *usage_error = "--batch and --iters must be positive integers";
  else if (!flags.empty()) *usage_error = "unknown flag " + flags.begin()->first + " for conv2d --resnet50";
  if (!usage_error->empty()) return 2;
  int status = 0;
  for (const std::string& p : passes)
    for (const Layer& layer : kResnet50Layers)
      status = std::max(status, RunLayer(layer, *batch, *dtype, static_cast<int>(*iters), device, p));
  return status;
}

}  // namespace petabox::bench
