// petabox-bench allreduce: the engine's all-reduce (engine/multi_allreduce.h) over a list of
// devices, against NCCL through torch.distributed on the same GPUs in the same run
// (tests/bench/nccl_peer.py, one process per GPU) when the devices are CUDA:0..N-1.
//
//   petabox-bench allreduce [--devices CPU:0,CPU:1] [--sizes 1M,16M,256M] [--algo twoshot,ring,direct]
//                           [--iters 20] [--piece-bytes 32M] [--peer 1]
//
// Each size is the bytes of the float32 tensor every device holds (K, M, G suffixes are
// powers of 1024). Per size and algorithm the all-reduce is captured by a Jit (call 1
// compiles, call 2 captures, call 3 is the first replay) and then replayed --iters times;
// the time of one replay (all devices, wall clock) is the median. busbw = bytes / time *
// 2(n-1)/n (NCCL's bus bandwidth). The result is checked against a host sum on every device
// (small integers: exact in float32). --peer 0 skips NCCL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tests/bench/bench_util.h"

namespace petabox::bench {

// Runs the subcommand with its flags (those after "allreduce"), prints a report and a JSON
// line per size and algorithm, and returns 0 when every case ran and was right (also when
// the peer is unavailable), 1 otherwise. On a usage error returns 2 with *usage_error set.
int AllReduceCommand(Flags flags, std::string* usage_error);

// "256M" -> 268435456 (K, M, G: powers of 1024); nullopt when malformed or not positive.
std::optional<int64_t> ParseBytes(const std::string& text);

}  // namespace petabox::bench
