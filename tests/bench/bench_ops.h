// The engine side of petabox-bench: times one op on the engine and checks its result
// against a naive C++ computation on sampled output elements.
#pragma once

#include <cstdint>
#include <string>

#include "engine/dtype.h"
#include "engine/shape/view.h"
#include "engine/util/status.h"

namespace petabox::bench {

struct EngineRun {
  std::string device;                 // where the engine ran, e.g. "CPU:0", "CUDA:0"
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

// `device` names the engine device ("CPU:0", "CUDA:0"); "" means the registry's default
// (CUDA:0 on a GPU host). An unknown device is an error (NotFound, listing those there are).

// C = A·B with A, B (n, n) uniform in [-1, 1). Errors from the engine are returned.
StatusOr<EngineRun> BenchMatmul(int64_t n, DType dtype, int iters, const std::string& device = "");

// A 2-D convolution without bias: x (batch, cin, size, size) * w (cout, cin, kernel, kernel)
// with the given stride and zero padding on every side. The defaults are the ResNet-style
// 3x3 layer the conv2d subcommand always ran.
struct ConvSpec {
  int64_t batch = 8, cin = 64, cout = 64, size = 56, kernel = 3, stride = 1, pad = 1;
  // What is timed: "forward" (y = conv(x, w)), "input-grad" (dL/dx for a random dL/dy) or
  // "weight-grad" (dL/dw); all three cost the same nominal FLOPs.
  std::string pass = "forward";
  int64_t out_size() const { return (size + 2 * pad - kernel) / stride + 1; }
  // Nominal FLOPs: 2 * batch * cout * out_size^2 * cin * kernel^2.
  double flops() const { return 2.0 * batch * cout * out_size() * out_size() * cin * kernel * kernel; }
};

// Inputs uniform in [-1, 1); the check samples output elements against a naive sum. An
// unknown pass is InvalidArgument.
StatusOr<EngineRun> BenchConv2d(const ConvSpec& spec, DType dtype, int iters, const std::string& device = "");

// A memory-bound float32 op over `numel` elements (inputs uniform in [-1, 1)):
//   "axpb":      y = x * 0.75 - 0.25, x of shape (numel)      (reads 4*numel, writes 4*numel bytes)
//   "sum":       y = sum of all of x, x of shape (numel)      (reads 4*numel, writes 4)
//   "sum_axis0": y = x.sum(0), x of shape (rows, numel/rows)  (reads 4*numel, writes 4*numel/rows)
//   "sum_axis1": y = x.sum(1), x of shape (rows, numel/rows)  (reads 4*numel, writes 4*rows)
// Unlike the ops above it reuses one input for all iterations (a fresh 1 GiB input per
// iteration would cost more host time than the whole measurement).
struct BandwidthSpec {
  std::string op = "axpb";
  int64_t numel = int64_t{1} << 28;
  int64_t rows = 1024;  // for sum_axis0 / sum_axis1; must divide numel
  // Bytes each run must move at least: inputs read once plus outputs written once.
  double bytes() const;
  Shape shape() const;
};
StatusOr<EngineRun> BenchBandwidth(const BandwidthSpec& spec, int iters, const std::string& device = "");

}  // namespace petabox::bench
