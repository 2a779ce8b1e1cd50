// Gradients of the composed nn ops (matmul, conv2d, max/avg pooling, softmax, log_softmax,
// cross_entropy, a hand-built batch norm, a small MLP) against double-precision finite
// differences of the naive host reference.
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/tensor.h"
#include "tests/engine/autograd/grad_check.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference
using gradtest::DistinctHost;
using gradtest::ExpectGradient;
using gradtest::ExpectGradients;
using gradtest::Tolerance;

using Inputs = std::vector<HostArray>;

// ---------------------------------------------------------------- matmul

struct MatmulCase {
  const char* name;
  Shape a, b;
  bool transpose_a = false;  // a is stored as (.., k, n) and used transposed
  bool transpose_b = false;
};

const MatmulCase kMatmul[] = {
    {"Plain", {3, 4}, {4, 5}},
    {"BatchedBoth", {2, 3, 4}, {2, 4, 2}},
    {"BatchedBroadcast", {2, 1, 3, 4}, {3, 4, 2}},
    {"TransposedLhs", {3, 4}, {4, 2}, true},
    {"TransposedRhsBatched", {2, 3, 4}, {2, 4, 5}, false, true},
    {"VectorByMatrix", {4}, {4, 3}},
    {"MatrixByVector", {3, 4}, {4}},
};

class GradMatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(GradMatmulTest, MatchesFiniteDifferences) {
  const MatmulCase& c = GetParam();
  auto stored = [](Shape s, bool t) {
    if (t) std::swap(s[s.size() - 1], s[s.size() - 2]);
    return s;
  };
  ExpectGradients(
      {RandomHost(stored(c.a, c.transpose_a)), RandomHost(stored(c.b, c.transpose_b))},
      [&](const std::vector<Tensor>& in) {
        return (c.transpose_a ? in[0].Transpose() : in[0]).Matmul(c.transpose_b ? in[1].Transpose() : in[1]);
      },
      [&](const Inputs& in) {
        return Matmul(c.transpose_a ? Transpose(in[0]) : in[0], c.transpose_b ? Transpose(in[1]) : in[1]);
      },
      {2e-4, 1e-3});
}

INSTANTIATE_TEST_SUITE_P(Grad, GradMatmulTest, ::testing::ValuesIn(kMatmul),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- conv2d

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dParams p;
  bool bias = false;
};

const ConvCase kConv[] = {
    {"Basic", {2, 2, 5, 5}, {3, 2, 3, 3}, {}, true},
    {"StridePadding", {1, 2, 6, 6}, {2, 2, 3, 3}, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}, true},
    {"DilationAsymmetricPadding", {1, 2, 6, 5}, {2, 2, 2, 3}, {.pad_h = 1, .dil_h = 2}},
    {"GroupsStride", {1, 4, 5, 5}, {4, 2, 3, 3}, {.stride_w = 2, .pad_w = 1, .groups = 2}, true},
};

class GradConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(GradConvTest, MatchesFiniteDifferences) {
  const ConvCase& c = GetParam();
  Inputs inputs = {RandomHost(c.x), RandomHost(c.w, NextSeed(), -1, 1)};
  if (c.bias) inputs.push_back(RandomHost({c.w[0]}, NextSeed(), -1, 1));
  const Conv2dParams& p = c.p;
  ExpectGradients(
      inputs,
      [&](const std::vector<Tensor>& in) {
        return in[0].Conv2d(in[1], c.bias ? in[2] : Tensor(), {p.stride_h, p.stride_w}, {p.pad_h, p.pad_w},
                            {p.dil_h, p.dil_w}, p.groups);
      },
      [&](const Inputs& in) { return Conv2d(in[0], in[1], c.bias ? &in[2] : nullptr, p); }, {2e-4, 1e-3});
}

INSTANTIATE_TEST_SUITE_P(Grad, GradConvTest, ::testing::ValuesIn(kConv),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- pooling

using Pair = std::pair<int64_t, int64_t>;

struct PoolCase {
  const char* name;
  bool is_max;
  Shape x;
  Pair kernel, stride, padding;
};

const PoolCase kPool[] = {
    {"MaxNonOverlapping", true, {1, 2, 4, 4}, {2, 2}, {0, 0}, {0, 0}},
    {"MaxOverlapping", true, {1, 2, 5, 5}, {3, 3}, {1, 2}, {0, 0}},
    {"MaxPadded", true, {2, 1, 5, 4}, {3, 2}, {2, 2}, {1, 1}},
    {"AvgNonOverlapping", false, {1, 2, 4, 6}, {2, 3}, {0, 0}, {0, 0}},
    {"AvgOverlappingPadded", false, {1, 2, 5, 5}, {3, 3}, {2, 1}, {1, 1}},
};

class GradPoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(GradPoolTest, MatchesFiniteDifferences) {
  const PoolCase& c = GetParam();
  // Max pooling: distinct inputs, so no window has a tie within a finite-difference step.
  ExpectGradient(
      c.is_max ? DistinctHost(c.x) : RandomHost(c.x),
      [&](const Tensor& x) {
        return c.is_max ? x.MaxPool2d(c.kernel, c.stride, c.padding) : x.AvgPool2d(c.kernel, c.stride, c.padding);
      },
      [&](const HostArray& x) { return Pool2d(x, c.is_max, c.kernel, c.stride, c.padding); });
}

INSTANTIATE_TEST_SUITE_P(Grad, GradPoolTest, ::testing::ValuesIn(kPool),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- softmax family

TEST(GradSoftmaxTest, LastAxis) {
  ExpectGradient(
      RandomHost({3, 5}, NextSeed(), -3, 3), [](const Tensor& x) { return x.Softmax(); },
      [](const HostArray& x) { return Softmax(x); });
}

TEST(GradSoftmaxTest, FirstAxisOf3d) {
  ExpectGradient(
      RandomHost({4, 2, 3}, NextSeed(), -3, 3), [](const Tensor& x) { return x.Softmax(0); },
      [](const HostArray& x) { return Softmax(x, 0); });
}

TEST(GradLogSoftmaxTest, LastAxis) {
  ExpectGradient(
      RandomHost({3, 5}, NextSeed(), -3, 3), [](const Tensor& x) { return x.LogSoftmax(); },
      [](const HostArray& x) { return LogSoftmax(x); });
}

TEST(GradLogSoftmaxTest, MiddleAxis) {
  ExpectGradient(
      RandomHost({2, 4, 3}, NextSeed(), -3, 3), [](const Tensor& x) { return x.LogSoftmax(1); },
      [](const HostArray& x) { return LogSoftmax(x, 1); });
}

class GradCrossEntropyTest : public ::testing::TestWithParam<double> {};

TEST_P(GradCrossEntropyTest, LogitsGradient) {
  double smoothing = GetParam();
  const int64_t n = 4, classes = 5;
  HostArray t = RandomIntHost({n}, 0, classes - 1);
  std::vector<int64_t> targets(t.data.begin(), t.data.end());
  ExpectGradient(
      RandomHost({n, classes}, NextSeed(), -3, 3),
      [&](const Tensor& x) { return x.CrossEntropy(ToTensor(t, DType::kInt32), smoothing); },
      [&](const HostArray& x) { return HostArray{{}, {CrossEntropy(x, targets, smoothing)}}; });
}

INSTANTIATE_TEST_SUITE_P(Grad, GradCrossEntropyTest, ::testing::Values(0.0, 0.1),
                         [](const auto& info) { return info.param == 0 ? "NoSmoothing" : "LabelSmoothing"; });

// ---------------------------------------------------------------- composed by hand

// Batch norm over (N, H, W) per channel: (x - mean) / sqrt(var + eps) * w + b.
TEST(GradComposedTest, BatchNormByHand) {
  constexpr double kEps = 1e-5;
  ExpectGradients(
      {RandomHost({4, 3, 2, 2}), RandomHost({3}, NextSeed(), 0.5, 1.5), RandomHost({3}, NextSeed(), -1, 1)},
      [](const std::vector<Tensor>& in) {
        const Tensor& x = in[0];
        Tensor mean = x.Mean({0, 2, 3}, true), var = x.Var({0, 2, 3}, true, 0);
        return (x - mean) / (var + kEps).Sqrt() * in[1].Reshape({1, 3, 1, 1}) + in[2].Reshape({1, 3, 1, 1});
      },
      [](const Inputs& in) {
        HostArray mean = Mean(in[0], {0, 2, 3}, true), var = Var(in[0], {0, 2, 3}, true, 0);
        HostArray centered = Zip(in[0], mean, [](double a, double m) { return a - m; });
        HostArray normed = Zip(centered, var, [](double c, double v) { return c / std::sqrt(v + kEps); });
        HostArray scaled = Zip(normed, Reshape(in[1], {1, 3, 1, 1}), [](double a, double w) { return a * w; });
        return Zip(scaled, Reshape(in[2], {1, 3, 1, 1}), [](double a, double b) { return a + b; });
      },
      {5e-4, 2e-3});
}

// A two-layer tanh MLP under cross-entropy: every parameter's gradient.
TEST(GradComposedTest, MlpCrossEntropy) {
  HostArray t = RandomIntHost({5}, 0, 2);
  std::vector<int64_t> targets(t.data.begin(), t.data.end());
  ExpectGradients(
      {RandomHost({5, 4}), RandomHost({4, 6}, NextSeed(), -1, 1), RandomHost({6}, NextSeed(), -1, 1),
       RandomHost({6, 3}, NextSeed(), -1, 1)},
      [&](const std::vector<Tensor>& in) {
        return in[0].Matmul(in[1]).Add(in[2]).Tanh().Matmul(in[3]).CrossEntropy(ToTensor(t, DType::kInt32));
      },
      [&](const Inputs& in) {
        HostArray h = Map(Zip(Matmul(in[0], in[1]), in[2], [](double a, double b) { return a + b; }),
                          [](double v) { return std::tanh(v); });
        return HostArray{{}, {CrossEntropy(Matmul(h, in[3]), targets)}};
      });
}

}  // namespace
}  // namespace petabox
