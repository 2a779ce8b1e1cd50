// petabox-bench bandwidth: memory-bound float32 ops on the engine against the same ops and
// a device-to-device copy of the same size through a peer (PyTorch on a CUDA device via
// tests/bench/torch_gpu_peer.py; NumPy on a CPU device via tests/bench/peer.py).
//
//   petabox-bench bandwidth [--op axpb,sum_axis0,sum_axis1] [--numel 268435456] [--rows 1024]
//                           [--iters 10] [--device NAME]
//
// --op is a comma-separated list of axpb (y = x*a + b), sum (everything to one value),
// sum_axis0 and sum_axis1 (x viewed as (rows, numel/rows)); see BandwidthSpec. GB/s count
// the bytes the op must move (inputs read once plus outputs written once) over the time;
// the copy ceiling counts a copy's bytes read plus written. The engine is reported over
// its wall time (building and realizing the graph, as the other subcommands) and over the
// time inside its kernels (CUDA events), which is what the peer's number measures.
#pragma once

#include <string>

#include "tests/bench/bench_util.h"

namespace petabox::bench {

// Runs each op of --op with its flags (those after "bandwidth"), prints a report and a JSON
// line per op, and returns the exit status: 0 when every op ran and was right (also when
// the peer is unavailable), 1 when the engine failed or computed a wrong result for any op.
// On a usage error returns 2 with *usage_error set.
int BandwidthCommand(Flags flags, std::string* usage_error);

}  // namespace petabox::bench
