// All-reduce over devices, built in the lazy graph from COPY and ADD (or MAX) nodes, so it is
// scheduled like any other work and, realized together with what surrounds it, runs
// concurrently on the devices and overlaps their other work (engine/multi_exec.h). Part of
// the multi-device engine (engine/multi*.h).
//
// The large algorithms are a reduce-scatter then an all-gather: the flat value is cut into
// one chunk per device (sizes differ by at most one element), every chunk is reduced on one
// device, and the reduced chunks are gathered on every device. Each device receives
// 2(n-1)/n of the value. They differ in how the chunks travel:
//   two-shot: device k receives chunk k of every other device and reduces all n in one
//             kernel; then every device receives every reduced chunk from its owner. Two
//             exchanges, all links busy at once: the default for large values (NVSwitch,
//             PCIe switches).
//   ring:     each chunk goes once round the ring of devices, each device adding its own
//             part, and the finished chunk goes round again to reach every device: 2(n-1)
//             steps, each between ring neighbours only.
//   direct:   every device receives every other device's whole value and combines all n in
//             device order: one exchange, (n-1) times the value received per device: for
//             small values, where latency dominates.
// Two-shot and ring cut chunks into pieces (piece_bytes) that travel on their own, so the
// copies of one piece overlap the adds of the next. The gathered pieces are copied straight
// into their place in each device's result (engine/schedule/concat.h): no pass over the
// whole value to put them together.
// Where kernels on one device can read another's memory (engine/multi_peer.h), the
// scheduler turns each copy that feeds an add or a concatenation into reads over the peer
// link inside that kernel. Any device count works, as do sizes not divisible by it (a
// device may get an empty chunk).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/tensor.h"

namespace petabox {

enum class ReduceOp { kSum, kMax };

struct AllReduceOptions {
  enum class Algorithm { kAuto, kTwoShot, kRing, kDirect };
  // kAuto: two-shot from large_min_bytes (of one input) on 3 or more devices, direct
  // otherwise (on 2 devices direct moves as many bytes as two-shot, in one exchange).
  // 32 MiB: where two-shot overtook direct on 4 H200s over NVLink (tests/bench/RESULTS.md).
  Algorithm algorithm = Algorithm::kAuto;
  int64_t large_min_bytes = int64_t{32} << 20;
  // Two-shot and ring: the largest piece of a chunk that is reduced and gathered on its
  // own; >= 1 element is used. 0: one piece per chunk.
  int64_t piece_bytes = int64_t{32} << 20;
  ReduceOp op = ReduceOp::kSum;
  // Copy and reduce in this float dtype (kFloat16 / kBFloat16 halve the bytes moved, e.g.
  // for gradients of a half-precision step); the results are cast back to the inputs'
  // dtype. Unset: the inputs' dtype.
  std::optional<DType> reduce_dtype;
};

// For each of `inputs` (one per device, devices distinct, equal shapes and dtypes): a lazy
// tensor on that input's device holding the elementwise sum (or max) of all inputs. The
// results are bitwise equal: each element is combined on one device and copied to the
// others (ring), or combined in the same order by the same kernel everywhere (direct).
// Realize the results together (RealizeAll) so that the devices work concurrently.
// InvalidArgument for no inputs, differing shapes or dtypes, a device given twice or a
// reduce_dtype that is not a float type; the inputs' own errors pass through.
StatusOr<std::vector<Tensor>> AllReduce(const std::vector<Tensor>& inputs, const AllReduceOptions& options = {});

// The bus bandwidth of an all-reduce of `bytes` per device over `devices` devices that took
// `seconds` (NCCL's definition: bytes / seconds * 2(n-1)/n), in bytes per second.
double AllReduceBusBandwidth(int64_t bytes, int devices, double seconds);

}  // namespace petabox
