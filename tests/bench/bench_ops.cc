#include "tests/bench/bench_ops.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <vector>

#include "devices/registry.h"
#include "engine/exec_stats.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace petabox::bench {
namespace {

constexpr int kSamples = 32;

std::vector<float> RandomHost(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = 2 * rng.Uniform() - 1;
  return v;
}

// Relative error budget per |a|·|b| summed over the reduction, by dtype: float32 inputs
// accumulate in float32; 16-bit types also round inputs and output.
double ToleranceScale(DType dtype) { return dtype == DType::kFloat32 ? 1e-4 : 3e-2; }

using BuildFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Builds fresh input tensors from `host` (untimed, realized first), then times building
// and realizing the op. The first run is a warm-up, so kernel compilation is excluded.
// On success `inputs_out`/`output_out` hold the last run's tensors for the check.
StatusOr<EngineRun> Time(const std::vector<std::vector<float>>& host, const std::vector<Shape>& shapes,
                         DType dtype, int iters, const BuildFn& build, std::vector<Tensor>* inputs_out,
                         Tensor* output_out) {
  EngineRun run;
  run.device = DeviceRegistry::Global().DefaultDevice();
  run.iters = iters;
  std::vector<double> times;
  ExecTotals timed;  // summed over the timed iterations only
  for (int i = -1; i < iters; ++i) {
    std::vector<Tensor> inputs;
    for (size_t k = 0; k < host.size(); ++k) {
      inputs.push_back(Tensor::FromVector(host[k], shapes[k], dtype));
      PB_RETURN_IF_ERROR(inputs.back().Realize());
    }
    ExecTotals before = GetExecTotals();
    auto start = std::chrono::steady_clock::now();
    Tensor out = build(inputs);
    PB_RETURN_IF_ERROR(out.Realize());
    auto stop = std::chrono::steady_clock::now();
    ExecTotals after = GetExecTotals();
    if (i >= 0) {
      times.push_back(std::chrono::duration<double>(stop - start).count());
      timed.kernels += after.kernels - before.kernels;
      timed.flops += after.flops - before.flops;
      timed.seconds += after.seconds - before.seconds;
    }
    *inputs_out = inputs;
    *output_out = out;
  }
  std::sort(times.begin(), times.end());
  size_t mid = times.size() / 2;
  run.median_seconds = times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  run.kernels_per_iter = timed.kernels / iters;
  run.counted_flops_per_iter = timed.flops / iters;
  run.kernel_seconds_per_iter = timed.seconds / iters;
  return run;
}

// Records one sampled element: `got` against the naive `want` with its budget `tol`.
void Check(EngineRun* run, double got, double want, double tol) {
  double err = std::fabs(got - want);
  run->checked++;
  run->max_abs_error = std::max(run->max_abs_error, err);
  run->worst_error_over_tolerance = std::max(run->worst_error_over_tolerance, std::isnan(err) ? 1e30 : err / tol);
}

// Sample k of kSamples: the first and last positions, then pseudo-random ones.
int64_t SamplePosition(int k, int64_t count, Rng& rng) {
  if (k == 0) return 0;
  if (k == 1) return count - 1;
  return static_cast<int64_t>(rng.NextU64() % static_cast<uint64_t>(count));
}

}  // namespace

StatusOr<EngineRun> BenchMatmul(int64_t n, DType dtype, int iters) {
  std::vector<std::vector<float>> host = {RandomHost(n * n, 1), RandomHost(n * n, 2)};
  std::vector<Tensor> inputs;
  Tensor out;
  PB_ASSIGN_OR_RETURN(EngineRun run,
                      Time(host, {{n, n}, {n, n}}, dtype, iters,
                           [](const std::vector<Tensor>& in) { return in[0].Matmul(in[1]); }, &inputs, &out));
  // The check uses the inputs as the engine holds them (rounded for 16-bit dtypes).
  PB_ASSIGN_OR_RETURN(std::vector<float> a, inputs[0].ToFloats());
  PB_ASSIGN_OR_RETURN(std::vector<float> b, inputs[1].ToFloats());
  PB_ASSIGN_OR_RETURN(std::vector<float> c, out.ToFloats());
  if (out.shape() != Shape{n, n}) return Internal("matmul returned shape " + ShapeToString(out.shape()));
  Rng rng(3);
  for (int k = 0; k < kSamples; ++k) {
    int64_t pos = SamplePosition(k, n * n, rng), i = pos / n, j = pos % n;
    double want = 0, magnitude = 0;
    for (int64_t t = 0; t < n; ++t) {
      want += static_cast<double>(a[i * n + t]) * b[t * n + j];
      magnitude += std::fabs(static_cast<double>(a[i * n + t]) * b[t * n + j]);
    }
    Check(&run, c[pos], want, ToleranceScale(dtype) * magnitude + 1e-6);
  }
  return run;
}

StatusOr<EngineRun> BenchConv2d(int64_t batch, int64_t channels, int64_t size, DType dtype, int iters) {
  const int64_t bs = batch, ch = channels, s = size;
  std::vector<std::vector<float>> host = {RandomHost(bs * ch * s * s, 1), RandomHost(ch * ch * 9, 2)};
  std::vector<Tensor> inputs;
  Tensor out;
  PB_ASSIGN_OR_RETURN(EngineRun run, Time(host, {{bs, ch, s, s}, {ch, ch, 3, 3}}, dtype, iters,
                                          [](const std::vector<Tensor>& in) {
                                            return in[0].Conv2d(in[1], Tensor(), {1, 1}, {1, 1});
                                          },
                                          &inputs, &out));
  PB_ASSIGN_OR_RETURN(std::vector<float> x, inputs[0].ToFloats());
  PB_ASSIGN_OR_RETURN(std::vector<float> w, inputs[1].ToFloats());
  PB_ASSIGN_OR_RETURN(std::vector<float> y, out.ToFloats());
  if (out.shape() != Shape{bs, ch, s, s}) return Internal("conv2d returned shape " + ShapeToString(out.shape()));
  Rng rng(3);
  for (int k = 0; k < kSamples; ++k) {
    int64_t pos = SamplePosition(k, bs * ch * s * s, rng);
    int64_t b = pos / (ch * s * s), o = pos / (s * s) % ch, i = pos / s % s, j = pos % s;
    double want = 0, magnitude = 0;
    for (int64_t c = 0; c < ch; ++c) {
      for (int64_t kh = 0; kh < 3; ++kh) {
        for (int64_t kw = 0; kw < 3; ++kw) {
          int64_t yi = i + kh - 1, xj = j + kw - 1;
          if (yi < 0 || yi >= s || xj < 0 || xj >= s) continue;
          double p = static_cast<double>(x[((b * ch + c) * s + yi) * s + xj]) * w[((o * ch + c) * 3 + kh) * 3 + kw];
          want += p;
          magnitude += std::fabs(p);
        }
      }
    }
    Check(&run, y[pos], want, ToleranceScale(dtype) * magnitude + 1e-6);
  }
  return run;
}

}  // namespace petabox::bench
