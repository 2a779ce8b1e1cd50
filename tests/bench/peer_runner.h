// Runs a peer script (tests/bench/peer.py: NumPy on the CPU; tests/bench/torch_gpu_peer.py:
// PyTorch on CUDA) as a subprocess so petabox-bench can report a peer measured on the same
// machine in the same run.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace petabox::bench {

// What the peer reported. When the peer could not run (no python3 that imports what the
// peer needs, a dtype it does not support, a crash), `seconds` is empty and `reason` says
// why.
struct PeerResult {
  std::string name = "numpy";          // "numpy-openblas", "torch-cuda-cublas", ...
  std::optional<double> gflops;        // set by the matmul and conv2d peers
  std::optional<double> seconds;       // the peer's median time for the op
  std::string reason;                  // empty when the peer ran
  std::string json;                    // the JSON line the peer printed last (for extra fields)
  // What BLAS the NumPy peer ran (peer.py's blas_* fields; empty for peers without them).
  std::string blas_version;            // "OpenBLAS 0.3.21"
  std::string blas_core;               // the OpenBLAS core type: "Haswell", "Zen", "Prescott", ...
  std::optional<int> blas_threads;     // openblas_get_num_threads()
  bool blas_core_forced = false;       // the peer set OPENBLAS_CORETYPE because OpenBLAS fell back
  // Set when a BLAS-bound ratio against this peer would mislead (OpenBLAS runs a generic
  // fallback core on an AVX2/AVX-512 CPU and it could not be forced): the bench prints no ratio.
  std::string ratio_refusal;
  bool available() const { return seconds.has_value(); }
};

// "OpenBLAS 0.3.21, core Haswell (forced), 2 threads", or "" when the peer named no BLAS core.
std::string PeerBlasText(const PeerResult& peer);

// The peer's BLAS as JSON members to append inside a result object:
// ,"peer_blas":..,"peer_blas_core":..,"peer_blas_threads":..,"peer_blas_core_forced":..
// (null where unknown).
std::string PeerBlasJson(const PeerResult& peer);

// The engine/peer ratio `engine / peer.gflops` for a BLAS-bound op (matmul, conv2d), or
// nullopt when the peer did not run or its ratio is refused (peer.ratio_refusal).
std::optional<double> BlasRatio(double engine_gflops, const PeerResult& peer);

// Why a ratio is missing: the peer's reason when it did not run, its ratio_refusal when it
// ran a fallback BLAS core; "" when a ratio is available.
std::string RatioError(const PeerResult& peer);

// The first interpreter that can `import <module>`: each python3 on PATH in order, then
// /usr/bin/python3, /usr/local/bin/python3 and /opt/torch/.venv/bin/python3. Each
// candidate is tried once per process and module (the answer is cached). Empty if none.
std::string FindPython(const std::string& module = "numpy");

// Runs `<python> <source dir>/tests/bench/<script> <args...>` with a python from
// FindPython(module) and parses the JSON line it prints last. Never fails: an unavailable
// peer is a PeerResult with a reason.
PeerResult RunPeerScript(const std::string& script, const std::string& module, const std::vector<std::string>& args);

// The NumPy peer: RunPeerScript("peer.py", "numpy", args).
PeerResult RunPeer(const std::vector<std::string>& args);

// What tests/bench/torch_peer.py (PyTorch on the CPU, train-step) reported. When it could
// not run, `samples_per_second` is empty and `reason` says why.
struct TorchPeerResult {
  std::string version;                        // torch.__version__
  std::optional<int> threads;                 // torch.get_num_threads()
  std::optional<double> seconds;              // median per step
  std::optional<double> total_seconds;        // all timed steps
  std::optional<double> samples_per_second;   // batch / median
  std::optional<double> first_loss, last_loss;
  std::string reason;                         // empty when the peer ran
  bool available() const { return samples_per_second.has_value(); }
};

// Runs torch_peer.py (with a python3 that can import torch) and parses its JSON line.
// Never fails: an unavailable peer is a TorchPeerResult with a reason.
TorchPeerResult RunTorchPeer(const std::vector<std::string>& args);

// The peer for engine device `device`: torch_gpu_peer.py (PyTorch on CUDA) for a "CUDA:<i>"
// device, peer.py (NumPy) otherwise.
PeerResult RunPeerForDevice(const std::string& device, const std::vector<std::string>& args);

// The number under `key` in the peer's JSON line, if any.
std::optional<double> PeerNumber(const PeerResult& peer, const std::string& key);
// The string under `key` in the peer's JSON line (no escapes), if any.
std::optional<std::string> PeerString(const PeerResult& peer, const std::string& key);

}  // namespace petabox::bench
