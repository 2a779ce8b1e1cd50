// The engine side of petabox-bench: times one op on the engine and checks its result
// against a naive C++ computation on sampled output elements.
#pragma once

#include <cstdint>
#include <string>

#include "engine/dtype.h"
#include "engine/util/status.h"

namespace petabox::bench {

struct EngineRun {
  std::string device;                 // where the engine ran, e.g. "CPU:0"
  int iters = 0;                      // timed iterations (after one untimed warm-up)
  double median_seconds = 0;          // wall time to build the graph and realize it
  int64_t kernels_per_iter = 0;       // from the engine's exec stats
  int64_t counted_flops_per_iter = 0; // the engine's static FLOP count, for comparison
  double kernel_seconds_per_iter = 0; // time inside kernels (excludes scheduling, launch)
  // The correctness check on sampled elements.
  int checked = 0;
  double max_abs_error = 0;
  double worst_error_over_tolerance = 0;  // <= 1 passes
  bool correct() const { return checked > 0 && worst_error_over_tolerance <= 1; }
};

// C = A·B with A, B (n, n) uniform in [-1, 1). Errors from the engine are returned.
StatusOr<EngineRun> BenchMatmul(int64_t n, DType dtype, int iters);

// ResNet-style 3x3 convolution, stride 1, padding 1, no bias:
// x (batch, channels, size, size) * w (channels, channels, 3, 3).
StatusOr<EngineRun> BenchConv2d(int64_t batch, int64_t channels, int64_t size, DType dtype, int iters);

}  // namespace petabox::bench
