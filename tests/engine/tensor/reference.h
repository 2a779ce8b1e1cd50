// A tiny, deliberately naive host reference for the Tensor conformance suite.
//
// HostArray is a row-major array of doubles. Every op here is written as the plainest
// loop over output (or input) indices, sharing nothing with the engine, so a bug in the
// engine's views, codegen or composites cannot hide in the reference. Plus the test
// helpers: seeded random inputs, conversion to Tensors, and ExpectClose.
//
// Test-only; single-threaded (gtest runs tests sequentially).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/dtype.h"
#include "engine/tensor.h"

namespace petabox::testref {

using Index = std::vector<int64_t>;

inline int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

inline std::string ShapeStr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

// Flat row-major position -> multi-index.
inline Index Unravel(int64_t flat, const Shape& shape) {
  Index idx(shape.size());
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

inline int64_t Ravel(const Index& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + idx[i];
  return flat;
}

inline int NormAxis(int axis, int ndim) { return axis < 0 ? axis + ndim : axis; }

struct HostArray {
  Shape shape;
  std::vector<double> data;

  static HostArray Filled(Shape shape, double value) {
    HostArray a{shape, {}};
    a.data.assign(NumElements(shape), value);
    return a;
  }
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  double At(const Index& idx) const { return data[Ravel(idx, shape)]; }
  double& At(const Index& idx) { return data[Ravel(idx, shape)]; }
};

// Builds an array of `shape` whose element at idx is f(idx).
inline HostArray Generate(const Shape& shape, const std::function<double(const Index&)>& f) {
  HostArray out = HostArray::Filled(shape, 0);
  for (int64_t i = 0; i < out.numel(); ++i) out.data[i] = f(Unravel(i, shape));
  return out;
}

// ---------------------------------------------------------------- broadcasting, elementwise

inline Shape BroadcastShape(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Right-aligned NumPy broadcast of `a` to `shape`.
inline HostArray BroadcastTo(const HostArray& a, const Shape& shape) {
  size_t lead = shape.size() - a.shape.size();
  return Generate(shape, [&](const Index& idx) {
    Index src(a.shape.size());
    for (size_t i = 0; i < a.shape.size(); ++i) src[i] = a.shape[i] == 1 ? 0 : idx[i + lead];
    return a.At(src);
  });
}

inline HostArray Map(const HostArray& a, const std::function<double(double)>& f) {
  HostArray out = a;
  for (double& v : out.data) v = f(v);
  return out;
}

inline HostArray Zip(const HostArray& a, const HostArray& b, const std::function<double(double, double)>& f) {
  Shape s = BroadcastShape(a.shape, b.shape);
  HostArray ba = BroadcastTo(a, s), bb = BroadcastTo(b, s);
  HostArray out = HostArray::Filled(s, 0);
  for (int64_t i = 0; i < out.numel(); ++i) out.data[i] = f(ba.data[i], bb.data[i]);
  return out;
}

inline HostArray Where(const HostArray& c, const HostArray& a, const HostArray& b) {
  Shape s = BroadcastShape(BroadcastShape(c.shape, a.shape), b.shape);
  HostArray bc = BroadcastTo(c, s), ba = BroadcastTo(a, s), bb = BroadcastTo(b, s);
  HostArray out = HostArray::Filled(s, 0);
  for (int64_t i = 0; i < out.numel(); ++i) out.data[i] = bc.data[i] != 0 ? ba.data[i] : bb.data[i];
  return out;
}

inline double GeluTanh(double x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Rounds to a binary float with `bits` significant bits (ties to even) and smallest
// quantum `min_quantum` (subnormals). Independent of the engine's dtype.cc.
inline double RoundSignificand(double x, int bits, double min_quantum) {
  if (x == 0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  double quantum = std::max(std::ldexp(1.0, e - bits), min_quantum);
  return std::nearbyint(x / quantum) * quantum;
}

// The value `x` takes when stored as `dtype` (float casts round to nearest even; int casts
// truncate toward zero as in C; bool is x != 0).
inline double QuantizeValue(double x, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return static_cast<double>(static_cast<float>(x));
    case DType::kFloat16: return RoundSignificand(x, 11, std::ldexp(1.0, -24));
    case DType::kBFloat16: return RoundSignificand(x, 8, std::ldexp(1.0, -133));
    case DType::kBool: return x != 0 ? 1.0 : 0.0;
    case DType::kUInt8:
    case DType::kInt32:
    case DType::kInt64: return std::trunc(x);
  }
  return x;
}

inline HostArray Quantize(const HostArray& a, DType dtype) {
  return Map(a, [dtype](double v) { return QuantizeValue(v, dtype); });
}

// ---------------------------------------------------------------- movement

// order[i] names the input dim that becomes output dim i.
inline HostArray Permute(const HostArray& a, const std::vector<int>& order) {
  Shape s(order.size());
  for (size_t i = 0; i < order.size(); ++i) s[i] = a.shape[order[i]];
  return Generate(s, [&](const Index& idx) {
    Index src(order.size());
    for (size_t i = 0; i < order.size(); ++i) src[order[i]] = idx[i];
    return a.At(src);
  });
}

inline HostArray Transpose(const HostArray& a, int d0 = -2, int d1 = -1) {
  int n = static_cast<int>(a.shape.size());
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::swap(order[NormAxis(d0, n)], order[NormAxis(d1, n)]);
  return Permute(a, order);
}

// One dim may be -1.
inline HostArray Reshape(const HostArray& a, Shape shape) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) infer = static_cast<int>(i);
    else known *= shape[i];
  }
  if (infer >= 0) shape[infer] = a.numel() / known;
  return HostArray{shape, a.data};
}

// -1 keeps a dim; new leading dims may be prepended.
inline HostArray Expand(const HostArray& a, Shape shape) {
  size_t lead = shape.size() - a.shape.size();
  for (size_t i = lead; i < shape.size(); ++i)
    if (shape[i] == -1) shape[i] = a.shape[i - lead];
  return BroadcastTo(a, shape);
}

inline HostArray Pad(const HostArray& a, const std::vector<Range>& pads, double value = 0) {
  Shape s = a.shape;
  for (size_t i = 0; i < s.size(); ++i) s[i] += pads[i].first + pads[i].second;
  return Generate(s, [&](const Index& idx) {
    Index src(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) {
      src[i] = idx[i] - pads[i].first;
      if (src[i] < 0 || src[i] >= a.shape[i]) return value;
    }
    return a.At(src);
  });
}

inline HostArray Shrink(const HostArray& a, const std::vector<Range>& ranges) {
  Shape s(ranges.size());
  for (size_t i = 0; i < s.size(); ++i) s[i] = ranges[i].second - ranges[i].first;
  return Generate(s, [&](const Index& idx) {
    Index src(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) src[i] = idx[i] + ranges[i].first;
    return a.At(src);
  });
}

inline HostArray Flip(const HostArray& a, const std::vector<int>& axes) {
  int n = static_cast<int>(a.shape.size());
  std::vector<bool> flip(n, false);
  for (int ax : axes) flip[NormAxis(ax, n)] = true;
  return Generate(a.shape, [&](const Index& idx) {
    Index src = idx;
    for (int i = 0; i < n; ++i)
      if (flip[i]) src[i] = a.shape[i] - 1 - idx[i];
    return a.At(src);
  });
}

// The indices Python's a[start:stop:step] selects from a dim of length `len`.
inline std::vector<int64_t> PySliceIndices(int64_t len, int64_t start, int64_t stop, int64_t step) {
  auto clamp = [&](int64_t v) {
    int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? len : len - 1;
    if (v < 0) v += len;
    return std::clamp(v, lower, upper);
  };
  start = clamp(start);
  stop = clamp(stop);
  std::vector<int64_t> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

inline HostArray Slice(const HostArray& a, int axis, int64_t start, int64_t stop, int64_t step = 1) {
  int ax = NormAxis(axis, static_cast<int>(a.shape.size()));
  std::vector<int64_t> sel = PySliceIndices(a.shape[ax], start, stop, step);
  Shape s = a.shape;
  s[ax] = static_cast<int64_t>(sel.size());
  return Generate(s, [&](const Index& idx) {
    Index src = idx;
    src[ax] = sel[idx[ax]];
    return a.At(src);
  });
}

inline HostArray Cat(const std::vector<HostArray>& xs, int axis) {
  int ax = NormAxis(axis, static_cast<int>(xs[0].shape.size()));
  Shape s = xs[0].shape;
  s[ax] = 0;
  for (const HostArray& x : xs) s[ax] += x.shape[ax];
  return Generate(s, [&](const Index& idx) {
    Index src = idx;
    for (const HostArray& x : xs) {
      if (src[ax] < x.shape[ax]) return x.At(src);
      src[ax] -= x.shape[ax];
    }
    return std::nan("");
  });
}

inline HostArray Stack(const std::vector<HostArray>& xs, int axis) {
  int ax = NormAxis(axis, static_cast<int>(xs[0].shape.size()) + 1);
  Shape s = xs[0].shape;
  s.insert(s.begin() + ax, static_cast<int64_t>(xs.size()));
  return Generate(s, [&](const Index& idx) {
    Index src = idx;
    src.erase(src.begin() + ax);
    return xs[idx[ax]].At(src);
  });
}

// ---------------------------------------------------------------- reductions

// Which dims a reduction over `axes` folds (negative axes count from the end; empty = all).
inline std::vector<bool> ReduceMask(const Shape& shape, const std::vector<int>& axes) {
  int n = static_cast<int>(shape.size());
  std::vector<bool> mask(n, axes.empty());
  for (int ax : axes) mask[NormAxis(ax, n)] = true;
  return mask;
}

inline Shape ReducedShape(const Shape& shape, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!mask[i]) out.push_back(shape[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Folds every input element into its output slot: acc = f(acc, x), starting from init.
inline HostArray Reduce(const HostArray& a, const std::vector<int>& axes, bool keepdim, double init,
                        const std::function<double(double, double)>& f) {
  std::vector<bool> mask = ReduceMask(a.shape, axes);
  Shape keep_shape = ReducedShape(a.shape, mask, true);
  HostArray out = HostArray::Filled(keep_shape, init);
  for (int64_t i = 0; i < a.numel(); ++i) {
    Index idx = Unravel(i, a.shape);
    for (size_t d = 0; d < idx.size(); ++d)
      if (mask[d]) idx[d] = 0;
    double& slot = out.At(idx);
    slot = f(slot, a.data[i]);
  }
  out.shape = ReducedShape(a.shape, mask, keepdim);
  return out;
}

inline int64_t ReduceCount(const Shape& shape, const std::vector<int>& axes) {
  std::vector<bool> mask = ReduceMask(shape, axes);
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i)
    if (mask[i]) n *= shape[i];
  return n;
}

inline HostArray Sum(const HostArray& a, const std::vector<int>& axes = {}, bool keepdim = false) {
  return Reduce(a, axes, keepdim, 0.0, [](double acc, double x) { return acc + x; });
}
inline HostArray Max(const HostArray& a, const std::vector<int>& axes = {}, bool keepdim = false) {
  return Reduce(a, axes, keepdim, -INFINITY, [](double acc, double x) { return std::max(acc, x); });
}
inline HostArray Min(const HostArray& a, const std::vector<int>& axes = {}, bool keepdim = false) {
  return Reduce(a, axes, keepdim, INFINITY, [](double acc, double x) { return std::min(acc, x); });
}
inline HostArray Mean(const HostArray& a, const std::vector<int>& axes = {}, bool keepdim = false) {
  double n = static_cast<double>(ReduceCount(a.shape, axes));
  return Map(Sum(a, axes, keepdim), [n](double s) { return s / n; });
}
inline HostArray Var(const HostArray& a, const std::vector<int>& axes = {}, bool keepdim = false,
                     double correction = 1) {
  HostArray mean = Mean(a, axes, true);
  HostArray sq = Zip(a, mean, [](double x, double m) { return (x - m) * (x - m); });
  double n = static_cast<double>(ReduceCount(a.shape, axes));
  return Map(Sum(sq, axes, keepdim), [n, correction](double s) { return s / (n - correction); });
}

// Index of the first maximum along `axis`.
inline HostArray Argmax(const HostArray& a, int axis, bool keepdim = false) {
  int ax = NormAxis(axis, static_cast<int>(a.shape.size()));
  Shape keep = a.shape;
  keep[ax] = 1;
  HostArray out = Generate(keep, [&](const Index& idx) {
    Index src = idx;
    int64_t best = 0;
    for (int64_t k = 0; k < a.shape[ax]; ++k) {
      src[ax] = k;
      Index b = idx;
      b[ax] = best;
      if (a.At(src) > a.At(b)) best = k;
    }
    return static_cast<double>(best);
  });
  if (!keepdim) out.shape.erase(out.shape.begin() + ax);
  return out;
}

// ---------------------------------------------------------------- nn

// NumPy matmul: 1-D operands get a dim prepended/appended (removed from the result);
// batch dims broadcast.
inline HostArray Matmul(const HostArray& a_in, const HostArray& b_in) {
  HostArray a = a_in, b = b_in;
  bool a1 = a.shape.size() == 1, b1 = b.shape.size() == 1;
  if (a1) a.shape.insert(a.shape.begin(), 1);
  if (b1) b.shape.push_back(1);
  int64_t n = a.shape[a.shape.size() - 2], k = a.shape.back(), m = b.shape.back();
  Shape ba(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
  Shape batch = BroadcastShape(ba, bb);
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {n, k});
  sb.insert(sb.end(), {k, m});
  HostArray ea = BroadcastTo(a, sa), eb = BroadcastTo(b, sb);
  Shape so = batch;
  so.insert(so.end(), {n, m});
  HostArray out = Generate(so, [&](const Index& idx) {
    Index ia = idx, ib = idx;
    size_t r = idx.size() - 2, c = idx.size() - 1;
    double acc = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      ia[c] = kk;
      ib[r] = kk;
      ib[c] = idx[c];
      acc += ea.At(ia) * eb.At(ib);
    }
    return acc;
  });
  if (b1) out.shape.pop_back();
  if (a1) out.shape.erase(out.shape.end() - (b1 ? 1 : 2));
  return out;
}

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

inline int64_t ConvOut(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

// x (N, C, H, W), w (O, C/groups, KH, KW), bias (O) or null. The 7-loop convolution.
inline HostArray Conv2d(const HostArray& x, const HostArray& w, const HostArray* bias, const Conv2dParams& p) {
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t O = w.shape[0], CG = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  int64_t OH = ConvOut(H, KH, p.stride_h, p.pad_h, p.dil_h), OW = ConvOut(W, KW, p.stride_w, p.pad_w, p.dil_w);
  int64_t opg = O / p.groups;
  (void)C;
  HostArray out = HostArray::Filled({N, O, OH, OW}, 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bias ? bias->data[o] : 0.0;
          int64_t g = o / opg;
          for (int64_t c = 0; c < CG; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dil_h;
                int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dil_w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x.At({n, g * CG + c, ih, iw}) * w.At({o, c, kh, kw});
              }
          out.At({n, o, oh, ow}) = acc;
        }
  return out;
}

// Max (padding never wins) or average (padding counts as zeros) pooling over the last two
// dims of (N, C, H, W). Stride 0 means stride = kernel.
inline HostArray Pool2d(const HostArray& x, bool is_max, std::pair<int64_t, int64_t> k,
                        std::pair<int64_t, int64_t> s, std::pair<int64_t, int64_t> pad) {
  if (s.first == 0) s = k;
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t OH = ConvOut(H, k.first, s.first, pad.first, 1), OW = ConvOut(W, k.second, s.second, pad.second, 1);
  HostArray out = HostArray::Filled({N, C, OH, OW}, 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = is_max ? -INFINITY : 0.0;
          for (int64_t kh = 0; kh < k.first; ++kh)
            for (int64_t kw = 0; kw < k.second; ++kw) {
              int64_t ih = oh * s.first - pad.first + kh, iw = ow * s.second - pad.second + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              double v = x.At({n, c, ih, iw});
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          out.At({n, c, oh, ow}) = is_max ? acc : acc / static_cast<double>(k.first * k.second);
        }
  return out;
}

inline HostArray LogSoftmax(const HostArray& x, int axis = -1) {
  HostArray m = Max(x, {axis}, true);
  HostArray shifted = Zip(x, m, [](double a, double b) { return a - b; });
  HostArray lse = Map(Sum(Map(shifted, [](double v) { return std::exp(v); }), {axis}, true),
                      [](double v) { return std::log(v); });
  return Zip(shifted, lse, [](double a, double b) { return a - b; });
}

inline HostArray Softmax(const HostArray& x, int axis = -1) {
  return Map(LogSoftmax(x, axis), [](double v) { return std::exp(v); });
}

// Mean over rows of -sum_c q_c * log p_c with q = (1-ls)*onehot + ls/C (PyTorch).
inline double CrossEntropy(const HostArray& logits, const std::vector<int64_t>& targets, double ls = 0) {
  HostArray lp = LogSoftmax(logits, 1);
  int64_t N = logits.shape[0], C = logits.shape[1];
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    double row = 0;
    for (int64_t c = 0; c < C; ++c) {
      double q = ls / static_cast<double>(C) + (c == targets[n] ? 1.0 - ls : 0.0);
      row -= q * lp.At({n, c});
    }
    total += row;
  }
  return total / static_cast<double>(N);
}

// ---------------------------------------------------------------- test helpers

// A fresh seed per call: a hash of the running test's full name plus a per-test counter,
// so each test gets its own inputs, reproducibly, whatever --gtest_filter selects.
inline uint64_t NextSeed() {
  static std::string last_test;
  static uint64_t counter = 0;
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  if (name != last_test) {
    last_test = name;
    counter = 0;
  }
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h + 0x9e3779b97f4a7c15ULL * ++counter;
}

// Uniform random values in [lo, hi), rounded to float32 (so float32 tensors hold them
// exactly). Never all zeros.
// The seeded form takes all four arguments (so (shape, -1, 1) is never read as a seed).
inline HostArray RandomHost(const Shape& shape, uint64_t seed, double lo, double hi) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  HostArray a = HostArray::Filled(shape, 0);
  bool nonzero = false;
  while (!nonzero && a.numel() > 0) {
    for (double& v : a.data) {
      v = static_cast<double>(static_cast<float>(dist(gen)));
      nonzero |= v != 0;
    }
  }
  return a;
}
inline HostArray RandomHost(const Shape& shape, double lo = -2, double hi = 2) {
  return RandomHost(shape, NextSeed(), lo, hi);
}

// Uniform random integers in [lo, hi] (as doubles). Never all zeros.
inline HostArray RandomIntHost(const Shape& shape, int64_t lo, int64_t hi, uint64_t seed = NextSeed()) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  HostArray a = HostArray::Filled(shape, 0);
  bool nonzero = false;
  while (!nonzero && a.numel() > 0 && (lo != 0 || hi != 0)) {
    for (double& v : a.data) {
      v = static_cast<double>(dist(gen));
      nonzero |= v != 0;
    }
  }
  return a;
}

// Random values of magnitude in [lo, hi) with random sign (safe denominators).
inline HostArray RandomAwayFromZero(const Shape& shape, double lo = 0.5, double hi = 2) {
  HostArray mag = RandomHost(shape, lo, hi);
  HostArray sign = RandomIntHost(shape, 0, 1);
  return Zip(mag, sign, [](double m, double s) { return s != 0 ? m : -m; });
}

inline Tensor ToTensor(const HostArray& a, DType dtype = DType::kFloat32) {
  std::vector<float> f(a.data.begin(), a.data.end());
  return Tensor::FromVector(f, a.shape, dtype);
}

// Realizes `t` and checks it against `want` elementwise: |got - want| <= atol + rtol*|want|
// (NaN matches NaN, inf matches the same inf). Reports the first mismatch and how many.
inline void ExpectClose(const Tensor& t, const HostArray& want, double atol = 1e-5, double rtol = 1e-4) {
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  StatusOr<std::vector<double>> got = t.ToDoubles();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(t.shape(), want.shape) << "got shape " << ShapeStr(t.shape()) << ", want " << ShapeStr(want.shape);
  ASSERT_EQ(static_cast<int64_t>(got->size()), want.numel());
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double g = (*got)[i], w = want.data[i];
    bool close = (std::isnan(g) && std::isnan(w)) || g == w ||
                 (std::isfinite(w) && std::fabs(g - w) <= atol + rtol * std::fabs(w));
    if (!close) {
      if (first < 0) first = i;
      ++bad;
      if (std::isfinite(g)) worst = std::max(worst, std::fabs(g - w));
    }
  }
  if (bad > 0) {
    Index idx = Unravel(first, want.shape);
    std::ostringstream where;
    where << "(";
    for (size_t d = 0; d < idx.size(); ++d) where << (d ? ", " : "") << idx[d];
    where << ")";
    ADD_FAILURE() << bad << " of " << want.numel() << " elements of shape " << ShapeStr(want.shape)
                  << " differ; first at index " << where.str() << ": got " << (*got)[first] << ", want "
                  << want.data[first] << " (atol " << atol << ", rtol " << rtol << ", max abs err " << worst
                  << ")";
  }
}

}  // namespace petabox::testref
