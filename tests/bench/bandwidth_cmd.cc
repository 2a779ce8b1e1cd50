#include "tests/bench/bandwidth_cmd.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <vector>

#include "tests/bench/bench_ops.h"
#include "tests/bench/peer_runner.h"

namespace petabox::bench {
namespace {

std::optional<double> Over(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

std::string ShapeJson(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// Prints the report lines and the JSON line of one op; returns its exit status.
int Report(const BandwidthSpec& spec, const EngineRun& run, const PeerResult& peer) {
  const double bytes = spec.bytes();
  const double gbps = bytes / run.median_seconds / 1e9;
  std::optional<double> kernel_gbps;
  if (run.kernel_seconds_per_iter > 0) kernel_gbps = bytes / run.kernel_seconds_per_iter / 1e9;
  std::optional<double> peer_gbps = PeerNumber(peer, "gbps"), copy_gbps = PeerNumber(peer, "copy_gbps");
  if (!peer.available()) peer_gbps = copy_gbps = std::nullopt;
  std::printf("engine  bandwidth %s %s float32 on %s: median %.4g s over %d iters -> %.4g GB/s "
              "(%lld kernels/iter, %.4g s in kernels -> %s GB/s)\n",
              spec.op.c_str(), ShapeToString(spec.shape()).c_str(), run.device.c_str(), run.median_seconds, run.iters,
              gbps, static_cast<long long>(run.kernels_per_iter), run.kernel_seconds_per_iter,
              Num(kernel_gbps).c_str());
  if (peer.available()) {
    std::printf("peer    %s: median %.4g s -> %s GB/s; copy ceiling %s GB/s\n", peer.name.c_str(), *peer.seconds,
                Num(peer_gbps).c_str(), Num(copy_gbps).c_str());
    std::printf("ratio   engine/peer = %s (in kernels: %s); engine/copy = %s (in kernels: %s)\n",
                Num(Over(gbps, peer_gbps)).c_str(), Num(Over(kernel_gbps, peer_gbps)).c_str(),
                Num(Over(gbps, copy_gbps)).c_str(), Num(Over(kernel_gbps, copy_gbps)).c_str());
    // NumPy's element-wise ops and sums do not call BLAS: its core is shown, never a reason to refuse.
    if (std::string blas = PeerBlasText(peer); !blas.empty()) std::printf("blas    %s (not used by these ops)\n", blas.c_str());
  } else {
    std::printf("peer    %s unavailable: %s\n", peer.name.c_str(), peer.reason.c_str());
  }
  std::printf("check   %d sampled elements vs naive C++ (double): max abs error %.3g, %s\n", run.checked,
              run.max_abs_error, run.correct() ? "OK" : "WRONG");
  std::printf("{\"op\":\"bandwidth\",\"case\":%s,\"dtype\":\"float32\",\"numel\":%lld,\"shape\":%s,\"device\":%s,"
              "\"iters\":%d,\"bytes\":%.0f,\"seconds\":%s,\"gbps\":%s,\"kernels\":%lld,\"kernel_seconds\":%s,"
              "\"kernel_gbps\":%s,\"peer\":%s,\"peer_seconds\":%s,\"peer_gbps\":%s,\"copy_gbps\":%s,"
              "\"peer_error\":%s%s,\"ratio\":%s,\"kernel_ratio\":%s,\"copy_ratio\":%s,\"kernel_copy_ratio\":%s,"
              "\"correct\":%s}\n",
              Quote(spec.op).c_str(), static_cast<long long>(spec.numel), ShapeJson(spec.shape()).c_str(),
              Quote(run.device).c_str(), run.iters, bytes, Num(run.median_seconds).c_str(), Num(gbps).c_str(),
              static_cast<long long>(run.kernels_per_iter), Num(run.kernel_seconds_per_iter).c_str(),
              Num(kernel_gbps).c_str(), Quote(peer.name).c_str(), Num(peer.seconds).c_str(), Num(peer_gbps).c_str(),
              Num(copy_gbps).c_str(), peer.available() ? "null" : Quote(peer.reason).c_str(), PeerBlasJson(peer).c_str(),
              Num(Over(gbps, peer_gbps)).c_str(), Num(Over(kernel_gbps, peer_gbps)).c_str(),
              Num(Over(gbps, copy_gbps)).c_str(), Num(Over(kernel_gbps, copy_gbps)).c_str(),
              run.correct() ? "true" : "false");
  return run.correct() ? 0 : 1;
}

// Runs one op on the engine and the peer; returns its exit status.
int RunOne(const BandwidthSpec& spec, int iters, const std::string& device) {
  StatusOr<EngineRun> run = BenchBandwidth(spec, iters, device);
  if (!run.ok()) {
    std::fprintf(stderr, "petabox-bench: engine failed: %s\n", run.status().ToString().c_str());
    std::printf("{\"op\":\"bandwidth\",\"case\":%s,\"numel\":%lld,\"device\":%s,\"error\":%s,\"correct\":false}\n",
                Quote(spec.op).c_str(), static_cast<long long>(spec.numel), Quote(device).c_str(),
                Quote(run.status().ToString()).c_str());
    return 1;
  }
  PeerResult peer = RunPeerForDevice(run->device, {"bandwidth", "--op", spec.op, "--numel", std::to_string(spec.numel),
                                                   "--rows", std::to_string(spec.rows), "--iters",
                                                   std::to_string(iters)});
  return Report(spec, *run, peer);
}

}  // namespace

int BandwidthCommand(Flags flags, std::string* usage_error) {
  std::string ops = flags.count("--op") ? flags["--op"] : "axpb,sum_axis0,sum_axis1";
  std::string device = flags.count("--device") ? flags["--device"] : "";
  flags.erase("--op");
  flags.erase("--device");
  std::optional<int64_t> numel = IntFlag(flags, "--numel", int64_t{1} << 28);
  std::optional<int64_t> rows = IntFlag(flags, "--rows", 1024);
  std::optional<int64_t> iters = IntFlag(flags, "--iters", 10);
  if (!numel || !rows || !iters) *usage_error = "--numel, --rows and --iters must be positive integers";
  else if (!flags.empty()) *usage_error = "unknown flag " + flags.begin()->first;
  std::vector<BandwidthSpec> specs;
  std::stringstream list(ops);
  for (std::string op; usage_error->empty() && std::getline(list, op, ',');) {
    if (op != "axpb" && op != "sum" && op != "sum_axis0" && op != "sum_axis1")
      *usage_error = "unknown bandwidth op '" + op + "' (axpb, sum, sum_axis0, sum_axis1)";
    else if (op != "axpb" && op != "sum" && *numel % *rows != 0)
      *usage_error = "--rows must divide --numel for " + op;
    specs.push_back({op, *numel, *rows});
  }
  if (!usage_error->empty()) return 2;
  int status = 0;
  for (const BandwidthSpec& spec : specs) status = std::max(status, RunOne(spec, static_cast<int>(*iters), device));
  return status;
}

}  // namespace petabox::bench
