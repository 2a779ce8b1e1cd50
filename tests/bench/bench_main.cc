// petabox-bench: times one op on the engine against a peer measured on the same machine in
// the same run, checks the engine's result, and prints a JSON summary as the last line.
//
//   petabox-bench matmul --n N [--dtype float32|float16|bfloat16] [--iters K] [--device NAME]
//   petabox-bench conv2d [--batch B] [--channels C] [--size S] [--dtype float32] [--iters K] [--device NAME]
//   petabox-bench conv2d --resnet50 [--batch 32] [--dtype float32] [--pass forward|input-grad|weight-grad|all] [--iters K] [--device NAME]
//   petabox-bench bandwidth [--op axpb,sum_axis0,sum_axis1] [--numel N] [--rows R] [--iters K] [--device NAME]
//   petabox-bench train-step --model mlp|cnn [--batch 128] [--steps 20] [--warmup 3] [--threads T] [--jit 1]
//                            [--devices D1,D2,...]
//   petabox-bench allreduce [--devices CPU:0,CPU:1] [--sizes 1M,16M,256M] [--algo twoshot,ring,direct] [--iters 20]
//                           [--piece-bytes 32M] [--peer 1]
//   petabox-bench make-imagenet --dir DIR [--per-class 20] [--val-per-class 5] [--min-size 64] [--max-size 256]
//   petabox-bench jpeg-loader [--dir DIR] [--size 224] [--threads 1] [--per-class 32] [--repeat 2]
//
// train-step (tests/bench/train_step_cmd.h) times whole training steps against PyTorch (or,
// with --devices, data-parallel steps on several devices); allreduce
// (tests/bench/allreduce_cmd.h) times the engine's all-reduce against NCCL;
// the others time one op against NumPy on a CPU device and against PyTorch (cuBLAS/cuDNN,
// tests/bench/torch_gpu_peer.py) on a CUDA device. --device defaults to the registry's
// default (CUDA:0 on a GPU host). conv2d --resnet50 (tests/bench/conv_suite_cmd.h) and
// bandwidth (tests/bench/bandwidth_cmd.h) print one report and JSON line per case.
//
// Exit status: 0 on success (also when the peer is unavailable), 1 when the engine fails or
// computes a wrong result, 2 on a usage error.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "devices/registry.h"
#include "engine/device_source.h"
#include "tests/bench/allreduce_cmd.h"
#include "tests/bench/bandwidth_cmd.h"
#include "tests/bench/bench_ops.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/conv_suite_cmd.h"
#include "tests/bench/jpeg_loader_cmd.h"
#include "tests/bench/make_imagenet_cmd.h"
#include "tests/bench/peer_runner.h"
#include "tests/bench/train_step_cmd.h"

namespace petabox::bench {
namespace {

struct Args {
  std::string op;
  Flags flags;  // "--n" -> "1024"
};

constexpr char kUsage[] =
    "usage: petabox-bench matmul --n N [--dtype float32|float16|bfloat16] [--iters 5] [--device NAME]\n"
    "       petabox-bench conv2d [--batch 8] [--channels 64] [--size 56] [--dtype float32] [--iters 5] [--device NAME]\n"
    "       petabox-bench conv2d --resnet50 [--batch 32] [--dtype float32] [--pass forward|input-grad|weight-grad|all]\n"
    "                                       [--iters 5] [--device NAME]\n"
    "       petabox-bench bandwidth [--op axpb,sum_axis0,sum_axis1 (a list of axpb, sum, sum_axis0, sum_axis1)]\n"
    "                               [--numel 268435456] [--rows 1024] [--iters 10] [--device NAME]\n"
    "       petabox-bench train-step --model mlp|cnn [--batch 128] [--steps 20] [--warmup 3] [--threads T] [--jit 1]\n"
    "                                [--devices D1,D2,...]\n"
    "       petabox-bench allreduce [--devices CPU:0,CPU:1] [--sizes 1M,16M,256M] [--algo twoshot,ring,direct] [--iters 20]\n"
    "                               [--piece-bytes 32M] [--peer 1]\n"
    "       petabox-bench make-imagenet --dir DIR [--per-class 20] [--val-per-class 5] [--min-size 64] [--max-size 256]\n"
    "                                   [--quality 90] [--seed 0] [--source /usr/share/datasets/fashion-mnist]\n"
    "       petabox-bench jpeg-loader [--dir DIR] [--size 224] [--threads 1] [--per-class 32] [--repeat 2]\n";

int Usage(const std::string& error) {
  std::fprintf(stderr, "petabox-bench: %s\n%s", error.c_str(), kUsage);
  return 2;
}

// Parses "--name value" pairs after the subcommand; returns an error message or "".
// A switch (--resnet50) has no value: it gets "" when the next argument is another flag.
std::string Parse(int argc, char** argv, Args* args) {
  if (argc < 2) return "missing subcommand";
  args->op = argv[1];
  for (int i = 2; i < argc; i += 2) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0) return "unexpected argument '" + name + "'";
    if (name == "--resnet50" && (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) {
      args->flags[name] = "";
      --i;
      continue;
    }
    if (i + 1 >= argc) return "missing value for " + name;
    args->flags[name] = argv[i + 1];
  }
  return "";
}

struct Report {
  std::string op, dtype, shape_json, shape_text;
  std::optional<int64_t> n;
  double flops = 0;
};

int Finish(const Report& r, const EngineRun& run, const PeerResult& peer) {
  double gflops = r.flops / run.median_seconds / 1e9;
  std::printf("engine  %s %s %s on %s: median %.4g s over %d iters -> %.4g GFLOP/s "
              "(%lld kernels/iter, %.4g s in kernels)\n",
              r.op.c_str(), r.shape_text.c_str(), r.dtype.c_str(), run.device.c_str(), run.median_seconds, run.iters,
              gflops, static_cast<long long>(run.kernels_per_iter), run.kernel_seconds_per_iter);
  std::optional<double> ratio = BlasRatio(gflops, peer);
  if (peer.available() && peer.gflops) {
    std::printf("peer    %s: median %.4g s -> %.4g GFLOP/s\n", peer.name.c_str(), *peer.seconds, *peer.gflops);
    if (std::string blas = PeerBlasText(peer); !blas.empty()) std::printf("blas    %s\n", blas.c_str());
    if (ratio) {
      std::printf("ratio   engine/peer = %.3g\n", *ratio);
    } else {
      std::printf("ratio   %s\n", RatioError(peer).c_str());
    }
  } else {
    std::printf("peer    %s unavailable: %s\n", peer.name.c_str(), peer.reason.c_str());
  }
  std::printf("check   %d sampled elements vs naive C++ (double): max abs error %.3g, %s\n", run.checked,
              run.max_abs_error, run.correct() ? "OK" : "WRONG");
  std::printf("{\"op\":%s,\"dtype\":%s,\"n\":%s,\"shape\":%s,\"device\":%s,\"iters\":%d,\"flops\":%.0f,"
              "\"gflops\":%s,\"seconds\":%s,\"kernels\":%lld,\"counted_flops\":%lld,\"kernel_seconds\":%s,\"peer\":%s,"
              "\"peer_gflops\":%s,\"peer_seconds\":%s,\"peer_error\":%s%s,\"ratio\":%s,\"ratio_error\":%s,\"correct\":%s}\n",
              Quote(r.op).c_str(), Quote(r.dtype).c_str(), r.n ? std::to_string(*r.n).c_str() : "null",
              r.shape_json.c_str(), Quote(run.device).c_str(), run.iters, r.flops, Num(gflops).c_str(),
              Num(run.median_seconds).c_str(), static_cast<long long>(run.kernels_per_iter),
              static_cast<long long>(run.counted_flops_per_iter),
              Num(run.kernel_seconds_per_iter).c_str(), Quote(peer.name).c_str(), Num(peer.gflops).c_str(),
              Num(peer.seconds).c_str(), peer.available() ? "null" : Quote(peer.reason).c_str(),
              PeerBlasJson(peer).c_str(), Num(ratio).c_str(), ratio ? "null" : Quote(RatioError(peer)).c_str(),
              run.correct() ? "true" : "false");
  return run.correct() ? 0 : 1;
}

int Main(int argc, char** argv) {
  Args args;
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (std::string error = Parse(argc, argv, &args); !error.empty()) return Usage(error);
  if (args.op == "allreduce") {
    std::string usage_error;
    int rc = AllReduceCommand(args.flags, &usage_error);
    return usage_error.empty() ? rc : Usage(usage_error);
  }
  if (args.op == "jpeg-loader") {
    std::string usage_error;
    int rc = JpegLoaderCommand(args.flags, &usage_error);
    return usage_error.empty() ? rc : Usage(usage_error);
  }
  if (args.op == "make-imagenet") {
    std::string usage_error;
    int rc = MakeImageNetCommand(args.flags, &usage_error);
    return usage_error.empty() ? rc : Usage(usage_error);
  }
  if (args.op == "train-step") {
    std::string usage_error;
    int rc = TrainStepCommand(args.flags, &usage_error);
    return usage_error.empty() ? rc : Usage(usage_error);
  }
  if (args.op == "bandwidth" || (args.op == "conv2d" && args.flags.count("--resnet50"))) {
    std::string usage_error;
    int rc = args.op == "bandwidth" ? BandwidthCommand(args.flags, &usage_error)
                                    : ConvSuiteCommand(args.flags, &usage_error);
    return usage_error.empty() ? rc : Usage(usage_error);
  }
  const std::string device = args.flags.count("--device") ? args.flags["--device"] : "";
  args.flags.erase("--device");
  std::string dtype_name = args.flags.count("--dtype") ? args.flags["--dtype"] : "float32";
  args.flags.erase("--dtype");
  StatusOr<DType> dtype = ParseDType(dtype_name);
  if (!dtype.ok()) return Usage(dtype.status().message());
  dtype_name = Name(*dtype);
  std::optional<int64_t> iters = IntFlag(args.flags, "--iters", 5);
  if (!iters) return Usage("--iters must be a positive integer");

  Report report{args.op, dtype_name, "", "", std::nullopt, 0};
  std::vector<std::string> peer_args = {args.op, "--dtype", dtype_name, "--iters", std::to_string(*iters)};
  std::optional<int64_t> n, batch, channels, size;
  if (args.op == "matmul") {
    if (!(n = IntFlag(args.flags, "--n", std::nullopt))) return Usage("matmul needs --n N (a positive integer)");
    report.n = n;
    report.flops = 2.0 * *n * *n * *n;
    report.shape_json = "[" + std::to_string(*n) + "," + std::to_string(*n) + "," + std::to_string(*n) + "]";
    report.shape_text = std::to_string(*n) + "x" + std::to_string(*n) + "x" + std::to_string(*n);
    peer_args.insert(peer_args.end(), {"--n", std::to_string(*n)});
  } else if (args.op == "conv2d") {
    batch = IntFlag(args.flags, "--batch", 8);
    channels = IntFlag(args.flags, "--channels", 64);
    size = IntFlag(args.flags, "--size", 56);
    if (!batch || !channels || !size) return Usage("--batch, --channels and --size must be positive integers");
    report.flops = 2.0 * *batch * *channels * *size * *size * *channels * 9;
    std::string b = std::to_string(*batch), c = std::to_string(*channels), s = std::to_string(*size);
    report.shape_json = "{\"batch\":" + b + ",\"cin\":" + c + ",\"cout\":" + c + ",\"h\":" + s + ",\"w\":" + s +
                        ",\"kernel\":3,\"stride\":1,\"pad\":1}";
    report.shape_text = "x(" + b + "," + c + "," + s + "," + s + ") w(" + c + "," + c + ",3,3) s1 p1";
    peer_args.insert(peer_args.end(), {"--batch", b, "--channels", c, "--size", s});
  } else {
    return Usage("unknown subcommand '" + args.op + "'");
  }
  if (!args.flags.empty()) return Usage("unknown flag " + args.flags.begin()->first);

  StatusOr<EngineRun> run =
      args.op == "matmul" ? BenchMatmul(*n, *dtype, static_cast<int>(*iters), device)
                          : BenchConv2d(ConvSpec{*batch, *channels, *channels, *size}, *dtype, static_cast<int>(*iters), device);
  if (!run.ok()) {
    std::fprintf(stderr, "petabox-bench: engine failed: %s\n", run.status().ToString().c_str());
    return 1;
  }
  PeerResult peer = RunPeerForDevice(run->device, peer_args);
  return Finish(report, *run, peer);
}

}  // namespace
}  // namespace petabox::bench

int main(int argc, char** argv) {
  petabox::InstallDeviceSource(&petabox::DeviceRegistry::Global());
  return petabox::bench::Main(argc, argv);
}
