// Runs tests/bench/peer.py (NumPy) as a subprocess so petabox-bench can report a peer
// measured on the same machine in the same run.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace petabox::bench {

// What the peer reported. When the peer could not run (no python3, no NumPy, a dtype it
// does not support, a crash), `gflops`/`seconds` are empty and `reason` says why.
struct PeerResult {
  std::string name = "numpy";          // "numpy-openblas", "numpy-im2col-openblas", ...
  std::optional<double> gflops;
  std::optional<double> seconds;
  std::string reason;                  // empty when the peer ran
  bool available() const { return gflops.has_value(); }
};

// The interpreter to use: /usr/bin/python3 (Debian's, which has python3-numpy) if it is
// executable, else the first python3 on PATH; empty if there is none.
std::string FindPython();

// Runs `python3 <source dir>/tests/bench/peer.py <args...>` and parses the JSON line it
// prints last. Never fails: an unavailable peer is a PeerResult with a reason.
PeerResult RunPeer(const std::vector<std::string>& args);

}  // namespace petabox::bench
