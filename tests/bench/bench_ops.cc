#include "tests/bench/bench_ops.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <vector>

#include "devices/registry.h"
#include "engine/autograd.h"
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

// The canonical name of `device` ("" = the registry's default); NotFound when unknown.
StatusOr<std::string> ResolveDevice(const std::string& device) {
  DeviceRegistry& registry = DeviceRegistry::Global();
  PB_ASSIGN_OR_RETURN(Device * d, registry.Get(device.empty() ? registry.DefaultDevice() : device));
  return d->properties().name;
}

// Where and how Time() runs: the device, and whether each iteration gets fresh inputs
// (true) or all reuse the first set (false: for inputs too large to re-upload each time).
struct TimeOptions {
  std::string device;  // canonical name, from ResolveDevice
  bool fresh_inputs = true;
};

// Builds input tensors from `host` on the device (untimed, realized first), then times
// building and realizing the op. The first run is a warm-up, so kernel compilation is
// excluded. On success `inputs_out`/`output_out` hold the last run's tensors for the check.
StatusOr<EngineRun> Time(const std::vector<std::vector<float>>& host, const std::vector<Shape>& shapes,
                         DType dtype, int iters, const BuildFn& build, const TimeOptions& options,
                         std::vector<Tensor>* inputs_out, Tensor* output_out) {
  EngineRun run;
  run.device = options.device;
  run.iters = iters;
  std::vector<double> times;
  ExecTotals timed;  // summed over the timed iterations only
  std::vector<Tensor> inputs;
  for (int i = -1; i < iters; ++i) {
    if (options.fresh_inputs || inputs.empty()) {
      inputs.clear();
      for (size_t k = 0; k < host.size(); ++k) {
        inputs.push_back(Tensor::FromVector(host[k], shapes[k], dtype, options.device));
        PB_RETURN_IF_ERROR(inputs.back().Realize());
      }
    }
    // Graph nodes are interned: while the last output lives, rebuilding the op on the same
    // inputs would return that realized node and time nothing.
    *output_out = Tensor();
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

StatusOr<EngineRun> BenchMatmul(int64_t n, DType dtype, int iters, const std::string& device) {
  PB_ASSIGN_OR_RETURN(std::string name, ResolveDevice(device));
  std::vector<std::vector<float>> host = {RandomHost(n * n, 1), RandomHost(n * n, 2)};
  std::vector<Tensor> inputs;
  Tensor out;
  PB_ASSIGN_OR_RETURN(EngineRun run,
                      Time(host, {{n, n}, {n, n}}, dtype, iters,
                           [](const std::vector<Tensor>& in) { return in[0].Matmul(in[1]); }, {name, true}, &inputs,
                           &out));
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

namespace {

// The naive value of one sampled element of a conv pass, and the sum of |products| (the
// tolerance's scale), from the host copies of x, w and the output gradient g.
struct ConvHost {
  const ConvSpec& spec;
  const std::vector<float>& x;
  const std::vector<float>& w;
  const std::vector<float>& g;

  std::pair<double, double> Forward(int64_t pos) const;
  std::pair<double, double> InputGrad(int64_t pos) const;
  std::pair<double, double> WeightGrad(int64_t pos) const;
};

std::pair<double, double> ConvHost::Forward(int64_t pos) const {
  const int64_t ci = spec.cin, co = spec.cout, s = spec.size, k = spec.kernel, os = spec.out_size();
  const int64_t b = pos / (co * os * os), o = pos / (os * os) % co, i = pos / os % os, j = pos % os;
  double want = 0, magnitude = 0;
  for (int64_t c = 0; c < ci; ++c)
    for (int64_t kh = 0; kh < k; ++kh)
      for (int64_t kw = 0; kw < k; ++kw) {
        int64_t yi = i * spec.stride + kh - spec.pad, xj = j * spec.stride + kw - spec.pad;
        if (yi < 0 || yi >= s || xj < 0 || xj >= s) continue;
        double p = static_cast<double>(x[((b * ci + c) * s + yi) * s + xj]) * w[((o * ci + c) * k + kh) * k + kw];
        want += p, magnitude += std::fabs(p);
      }
  return {want, magnitude};
}

std::pair<double, double> ConvHost::InputGrad(int64_t pos) const {
  const int64_t ci = spec.cin, co = spec.cout, s = spec.size, k = spec.kernel, os = spec.out_size();
  const int64_t b = pos / (ci * s * s), c = pos / (s * s) % ci, yi = pos / s % s, xj = pos % s;
  double want = 0, magnitude = 0;
  for (int64_t kh = 0; kh < k; ++kh)
    for (int64_t kw = 0; kw < k; ++kw) {
      int64_t ti = yi + spec.pad - kh, tj = xj + spec.pad - kw;
      if (ti < 0 || tj < 0 || ti % spec.stride || tj % spec.stride) continue;
      int64_t i = ti / spec.stride, j = tj / spec.stride;
      if (i >= os || j >= os) continue;
      for (int64_t o = 0; o < co; ++o) {
        double p = static_cast<double>(g[((b * co + o) * os + i) * os + j]) * w[((o * ci + c) * k + kh) * k + kw];
        want += p, magnitude += std::fabs(p);
      }
    }
  return {want, magnitude};
}

std::pair<double, double> ConvHost::WeightGrad(int64_t pos) const {
  const int64_t ci = spec.cin, co = spec.cout, s = spec.size, k = spec.kernel, os = spec.out_size();
  const int64_t o = pos / (ci * k * k), c = pos / (k * k) % ci, kh = pos / k % k, kw = pos % k;
  double want = 0, magnitude = 0;
  for (int64_t b = 0; b < spec.batch; ++b)
    for (int64_t i = 0; i < os; ++i)
      for (int64_t j = 0; j < os; ++j) {
        int64_t yi = i * spec.stride + kh - spec.pad, xj = j * spec.stride + kw - spec.pad;
        if (yi < 0 || yi >= s || xj < 0 || xj >= s) continue;
        double p = static_cast<double>(g[((b * co + o) * os + i) * os + j]) * x[((b * ci + c) * s + yi) * s + xj];
        want += p, magnitude += std::fabs(p);
      }
  return {want, magnitude};
}

}  // namespace

StatusOr<EngineRun> BenchConv2d(const ConvSpec& spec, DType dtype, int iters, const std::string& device) {
  PB_ASSIGN_OR_RETURN(std::string name, ResolveDevice(device));
  const int64_t bs = spec.batch, ci = spec.cin, co = spec.cout, s = spec.size, k = spec.kernel;
  const int64_t st = spec.stride, pad = spec.pad, os = spec.out_size();
  if (os <= 0) return InvalidArgument("conv2d: the kernel does not fit the padded input");
  const std::string pass = spec.pass;
  if (pass != "forward" && pass != "input-grad" && pass != "weight-grad")
    return InvalidArgument("conv2d: unknown pass '" + pass + "' (forward, input-grad, weight-grad)");
  std::vector<std::vector<float>> host = {RandomHost(bs * ci * s * s, 1), RandomHost(co * ci * k * k, 2)};
  std::vector<Shape> shapes = {{bs, ci, s, s}, {co, ci, k, k}};
  if (pass != "forward") {  // the output's gradient
    host.push_back(RandomHost(bs * co * os * os, 3));
    shapes.push_back({bs, co, os, os});
  }
  BuildFn build = [&](const std::vector<Tensor>& in) {
    Tensor x = in[0], w = in[1];
    if (pass == "forward") return x.Conv2d(w, Tensor(), {st, st}, {pad, pad});
    (pass == "input-grad" ? x : w).RequiresGrad();
    StatusOr<std::vector<Tensor>> grads =
        Gradients(x.Conv2d(w, Tensor(), {st, st}, {pad, pad}), {pass == "input-grad" ? x : w}, in[2]);
    return grads.ok() ? (*grads)[0] : Tensor::Error(grads.status());
  };
  std::vector<Tensor> inputs;
  Tensor out;
  PB_ASSIGN_OR_RETURN(EngineRun run, Time(host, shapes, dtype, iters, build, {name, true}, &inputs, &out));
  PB_ASSIGN_OR_RETURN(std::vector<float> x, inputs[0].ToFloats());
  PB_ASSIGN_OR_RETURN(std::vector<float> w, inputs[1].ToFloats());
  std::vector<float> g;
  if (pass != "forward") {
    PB_ASSIGN_OR_RETURN(g, inputs[2].ToFloats());
  }
  PB_ASSIGN_OR_RETURN(std::vector<float> y, out.ToFloats());
  const Shape want_shape = pass == "forward" ? Shape{bs, co, os, os} : pass == "input-grad" ? Shape{bs, ci, s, s}
                                                                                             : Shape{co, ci, k, k};
  if (out.shape() != want_shape) return Internal("conv2d " + pass + " returned shape " + ShapeToString(out.shape()));
  ConvHost naive{spec, x, w, g};
  Rng rng(3);
  for (int sample = 0; sample < kSamples; ++sample) {
    int64_t pos = SamplePosition(sample, static_cast<int64_t>(y.size()), rng);
    auto [want, magnitude] = pass == "forward"      ? naive.Forward(pos)
                             : pass == "input-grad" ? naive.InputGrad(pos)
                                                    : naive.WeightGrad(pos);
    Check(&run, y[pos], want, ToleranceScale(dtype) * magnitude + 1e-6);
  }
  return run;
}

double BandwidthSpec::bytes() const {
  const double in = 4.0 * numel;
  if (op == "axpb") return 2 * in;
  if (op == "sum") return in + 4;
  if (op == "sum_axis0") return in + 4.0 * (numel / rows);
  return in + 4.0 * rows;  // sum_axis1
}

Shape BandwidthSpec::shape() const {
  if (op == "sum_axis0" || op == "sum_axis1") return {rows, numel / rows};
  return {numel};
}

StatusOr<EngineRun> BenchBandwidth(const BandwidthSpec& spec, int iters, const std::string& device) {
  const std::string& op = spec.op;
  if (op != "axpb" && op != "sum" && op != "sum_axis0" && op != "sum_axis1")
    return InvalidArgument("bandwidth: unknown op '" + op + "' (axpb, sum, sum_axis0, sum_axis1)");
  if ((op == "sum_axis0" || op == "sum_axis1") && (spec.rows <= 0 || spec.numel % spec.rows != 0))
    return InvalidArgument("bandwidth: rows " + std::to_string(spec.rows) + " must divide numel " +
                           std::to_string(spec.numel));
  PB_ASSIGN_OR_RETURN(std::string name, ResolveDevice(device));
  constexpr double kA = 0.75, kB = -0.25;
  std::vector<std::vector<float>> host = {RandomHost(spec.numel, 1)};
  std::vector<Tensor> inputs;
  Tensor out;
  BuildFn build = [&op](const std::vector<Tensor>& in) {
    if (op == "axpb") return in[0].Mul(kA).Add(kB);
    if (op == "sum") return in[0].Sum();
    return in[0].Sum({op == "sum_axis0" ? 0 : 1});
  };
  PB_ASSIGN_OR_RETURN(EngineRun run,
                      Time(host, {spec.shape()}, DType::kFloat32, iters, build, {name, false}, &inputs, &out));
  PB_ASSIGN_OR_RETURN(std::vector<float> y, out.ToFloats());
  const std::vector<float>& x = host[0];  // float32 inputs are held exactly
  const int64_t rows = spec.shape()[0], cols = spec.numel / rows;
  Rng rng(3);
  for (int sample = 0; sample < kSamples; ++sample) {
    double want = 0, magnitude = 0;
    int64_t pos = 0;
    if (op == "axpb") {
      pos = SamplePosition(sample, spec.numel, rng);
      want = kA * x[pos] + kB;
      magnitude = std::fabs(kA * x[pos]) + std::fabs(kB);
    } else if (op == "sum") {
      if (sample > 0) break;  // one output: sum everything once
      for (float v : x) want += v, magnitude += std::fabs(v);
    } else if (op == "sum_axis0") {
      pos = SamplePosition(sample, cols, rng);
      for (int64_t r = 0; r < rows; ++r) want += x[r * cols + pos], magnitude += std::fabs(x[r * cols + pos]);
    } else {
      pos = SamplePosition(sample, rows, rng);
      for (int64_t c = 0; c < cols; ++c) want += x[pos * cols + c], magnitude += std::fabs(x[pos * cols + c]);
    }
    if (pos >= static_cast<int64_t>(y.size())) return Internal("bandwidth: output has " + std::to_string(y.size()) +
                                                               " elements, expected more than " + std::to_string(pos));
    Check(&run, y[pos], want, ToleranceScale(DType::kFloat32) * magnitude + 1e-6);
  }
  return run;
}

}  // namespace petabox::bench
