#include "tests/bench/allreduce_cmd.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "devices/registry.h"
#include "engine/jit.h"
#include "engine/multi_allreduce.h"
#include "tests/bench/peer_runner.h"

namespace petabox::bench {
namespace {

using Algorithm = AllReduceOptions::Algorithm;

struct Args {
  std::vector<std::string> devices;
  std::vector<int64_t> sizes;
  std::vector<std::string> algos;
  int iters = 20;
  int64_t piece_bytes = int64_t{32} << 20;
  bool peer = true;
};

struct Result {
  double seconds = 0;    // median replay
  size_t ops = 0;        // captured kernels and copies
  bool correct = false;
  std::string error;
};

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Element i of device d's input: small integers, so every sum is exact in float32.
float Value(int64_t i, size_t d) { return static_cast<float>((i * 7 + static_cast<int64_t>(d) * 3) % 16 - 8); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Every output equals the host sum, bit for bit.
bool Check(const std::vector<Tensor>& outs, int64_t numel) {
  std::vector<float> got(static_cast<size_t>(numel));
  for (const Tensor& t : outs) {
    std::shared_ptr<Buffer> b = t.node()->buffer();
    if (!b || b->size() != numel || !b->CopyOut(got.data(), got.size() * sizeof(float)).ok()) return false;
    for (int64_t i = 0; i < numel; ++i) {
      float want = 0;
      for (size_t d = 0; d < outs.size(); ++d) want += Value(i, d);
      if (got[i] != want) return false;
    }
  }
  return true;
}

Result RunCase(const Args& a, int64_t bytes, const std::string& algo) {
  Result r;
  const int64_t numel = bytes / 4;
  std::vector<Tensor> inputs;
  for (size_t d = 0; d < a.devices.size(); ++d) {
    std::vector<float> v(static_cast<size_t>(numel));
    for (int64_t i = 0; i < numel; ++i) v[i] = Value(i, d);
    inputs.push_back(Tensor::FromData(v.data(), {numel}, DType::kFloat32, a.devices[d]));
  }
  AllReduceOptions options;
  options.algorithm = algo == "ring"      ? Algorithm::kRing
                      : algo == "direct"  ? Algorithm::kDirect
                      : algo == "twoshot" ? Algorithm::kTwoShot
                                          : Algorithm::kAuto;
  options.piece_bytes = a.piece_bytes;
  Jit jit([&](const std::vector<Tensor>& in) -> StatusOr<std::vector<Tensor>> {
    PB_ASSIGN_OR_RETURN(std::vector<Tensor> out, AllReduce(in, options));
    std::vector<Tensor*> roots;
    for (Tensor& t : out) roots.push_back(&t);
    PB_RETURN_IF_ERROR(RealizeAll(roots));
    return out;
  });
  std::vector<Tensor> outs;
  std::vector<double> times;
  for (int i = 0; i < 3 + a.iters; ++i) {
    auto start = std::chrono::steady_clock::now();
    StatusOr<std::vector<Tensor>> out = jit.Run(inputs);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!out.ok()) {
      r.error = out.status().ToString();
      return r;
    }
    if (i >= 3) times.push_back(seconds);
    outs = std::move(*out);
  }
  r.seconds = Median(times);
  r.ops = jit.captured_ops();
  r.correct = Check(outs, numel);
  return r;
}

std::string SizeText(int64_t bytes) {
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

// NCCL on CUDA:0..N-1 when the devices are exactly those, in order.
PeerResult RunNccl(const Args& a) {
  PeerResult none;
  none.name = "nccl";
  for (size_t d = 0; d < a.devices.size(); ++d) {
    if (a.devices[d] != "CUDA:" + std::to_string(d)) {
      none.reason = "NCCL peer runs only on CUDA:0..CUDA:N-1";
      return none;
    }
  }
  if (!a.peer) {
    none.reason = "--peer 0";
    return none;
  }
  std::string sizes;
  for (int64_t s : a.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  return RunPeerScript("nccl_peer.py", "torch",
                       {"allreduce", "--devices", std::to_string(a.devices.size()), "--sizes", sizes, "--iters",
                        std::to_string(std::max(a.iters, 20))});
}

std::string ParseArgs(Flags& flags, Args* a) {
  auto take = [&](const std::string& name, const std::string& fallback) {
    auto it = flags.find(name);
    std::string v = it == flags.end() ? fallback : it->second;
    if (it != flags.end()) flags.erase(it);
    return v;
  };
  a->devices = Split(take("--devices", "CPU:0,CPU:1"));
  for (const std::string& s : Split(take("--sizes", "1M,16M,256M"))) {
    std::optional<int64_t> b = ParseBytes(s);
    if (!b || *b % 4) return "--sizes: '" + s + "' is not a positive multiple of 4 bytes";
    a->sizes.push_back(*b);
  }
  a->algos = Split(take("--algo", "twoshot,ring,direct"));
  for (const std::string& g : a->algos)
    if (g != "ring" && g != "direct" && g != "twoshot" && g != "auto")
      return "--algo: '" + g + "' is not twoshot, ring, direct or auto";
  std::optional<int64_t> piece = ParseBytes(take("--piece-bytes", "32M"));
  if (!piece) return "--piece-bytes must be a positive size";
  a->piece_bytes = *piece;
  std::optional<int64_t> iters = IntFlag(flags, "--iters", 20);
  if (!iters) return "--iters must be a positive integer";
  a->iters = static_cast<int>(*iters);
  const std::string peer = take("--peer", "1");
  if (peer != "0" && peer != "1") return "--peer must be 0 or 1";
  a->peer = peer == "1";
  if (a->devices.empty() || a->sizes.empty() || a->algos.empty()) return "--devices, --sizes and --algo need a value";
  if (!flags.empty()) return "unknown flag " + flags.begin()->first;
  for (std::string& d : a->devices) {
    StatusOr<Device*> dev = DeviceRegistry::Global().Get(d);
    if (!dev.ok()) return dev.status().message();
    d = (*dev)->properties().name;
  }
  return "";
}

}  // namespace

std::optional<int64_t> ParseBytes(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int64_t scale = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': scale = int64_t{1} << 10; break;
    case 'M': case 'm': scale = int64_t{1} << 20; break;
    case 'G': case 'g': scale = int64_t{1} << 30; break;
    default: break;
  }
  if (scale > 1) digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12) return std::nullopt;
  const int64_t v = std::stoll(digits) * scale;
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

int AllReduceCommand(Flags flags, std::string* usage_error) {
  Args a;
  if (std::string error = ParseArgs(flags, &a); !error.empty()) {
    *usage_error = error;
    return 2;
  }
  const int n = static_cast<int>(a.devices.size());
  std::string list;
  for (const std::string& d : a.devices) list += (list.empty() ? "" : ",") + d;
  std::map<std::pair<int64_t, std::string>, Result> results;
  for (int64_t bytes : a.sizes)
    for (const std::string& algo : a.algos) results[{bytes, algo}] = RunCase(a, bytes, algo);
  PeerResult peer = RunNccl(a);
  int status = 0;
  for (int64_t bytes : a.sizes) {
    std::optional<double> peer_seconds = PeerNumber(peer, "seconds_" + std::to_string(bytes));
    if (!peer.available()) peer_seconds.reset();
    std::optional<double> peer_busbw;
    if (peer_seconds) peer_busbw = AllReduceBusBandwidth(bytes, n, *peer_seconds) / 1e9;
    for (const std::string& algo : a.algos) {
      const Result& r = results[{bytes, algo}];
      if (!r.error.empty() || !r.correct) status = 1;
      std::optional<double> busbw, ratio;
      if (r.error.empty()) busbw = AllReduceBusBandwidth(bytes, n, r.seconds) / 1e9;
      if (busbw && peer_busbw) ratio = *busbw / *peer_busbw;
      if (!r.error.empty()) {
        std::printf("engine  allreduce %s x %d devices (%s) %s FAILED: %s\n", SizeText(bytes).c_str(), n, list.c_str(),
                    algo.c_str(), r.error.c_str());
      } else {
        std::printf("engine  allreduce %s x %d devices (%s) %s: median %.4g ms over %d replays -> busbw %.4g GB/s "
                    "(%zu ops/replay), %s\n",
                    SizeText(bytes).c_str(), n, list.c_str(), algo.c_str(), r.seconds * 1e3, a.iters, *busbw, r.ops,
                    r.correct ? "correct" : "WRONG");
      }
      std::printf("{\"op\":\"allreduce\",\"devices\":%s,\"n\":%d,\"bytes\":%lld,\"algo\":%s,\"piece_bytes\":%lld,"
                  "\"iters\":%d,\"seconds\":%s,\"busbw_gbs\":%s,\"ops\":%zu,\"peer\":%s,\"peer_seconds\":%s,"
                  "\"peer_busbw_gbs\":%s,\"peer_error\":%s,\"ratio\":%s,\"correct\":%s,\"error\":%s}\n",
                  Quote(list).c_str(), n, static_cast<long long>(bytes), Quote(algo).c_str(),
                  static_cast<long long>(a.piece_bytes), a.iters,
                  Num(r.error.empty() ? std::optional<double>(r.seconds) : std::nullopt).c_str(), Num(busbw).c_str(),
                  r.ops, Quote(peer.name).c_str(), Num(peer_seconds).c_str(), Num(peer_busbw).c_str(),
                  peer.available() ? "null" : Quote(peer.reason).c_str(), Num(ratio).c_str(),
                  r.correct ? "true" : "false", r.error.empty() ? "null" : Quote(r.error).c_str());
    }
    if (peer_seconds) {
      std::printf("peer    nccl allreduce %s x %d GPUs: median %.4g ms -> busbw %.4g GB/s\n", SizeText(bytes).c_str(), n,
                  *peer_seconds * 1e3, *peer_busbw);
    }
  }
  if (!peer.available()) std::printf("peer    nccl unavailable: %s\n", peer.reason.c_str());
  return status;
}

}  // namespace petabox::bench
