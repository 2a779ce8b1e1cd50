// Conformance of the composed nn ops (matmul, conv2d, pools, softmax, log_softmax,
// cross_entropy) and of small chains of ops against the naive host reference.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference

// ---------------------------------------------------------------- matmul

struct MatmulCase {
  const char* name;
  Shape a, b;
  bool transpose_a = false;  // a is given transposed: the tensor is a.T of a random (.., k, n)
  bool transpose_b = false;
};

const MatmulCase kMatmul[] = {
    {"OneByOne", {1, 1}, {1, 1}},
    {"Odd17x33x5", {17, 33}, {33, 5}},
    {"Batched2x3x4By4x5", {2, 3, 4}, {4, 5}},
    {"BatchedBoth", {2, 3, 4}, {2, 4, 5}},
    {"BroadcastBatch", {2, 1, 3, 4}, {5, 4, 2}},
    {"VectorByMatrix", {4}, {4, 3}},
    {"MatrixByVector", {3, 4}, {4}},
    {"VectorDot", {7}, {7}},
    {"TransposedLhs", {5, 3}, {3, 6}, true},
    {"TransposedRhsBatched", {2, 3, 4}, {2, 4, 5}, false, true},
};

class MatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulTest, MatchesReference) {
  const MatmulCase& c = GetParam();
  // Transposed operands are stored as (.., last, second-to-last) and viewed back.
  auto stored = [](Shape s, bool t) {
    if (t) std::swap(s[s.size() - 1], s[s.size() - 2]);
    return s;
  };
  HostArray a = RandomHost(stored(c.a, c.transpose_a)), b = RandomHost(stored(c.b, c.transpose_b));
  Tensor ta = ToTensor(a), tb = ToTensor(b);
  if (c.transpose_a) {
    ta = ta.Transpose();
    a = Transpose(a);
  }
  if (c.transpose_b) {
    tb = tb.Transpose();
    b = Transpose(b);
  }
  int64_t k = a.shape.back();
  ExpectClose(ta.Matmul(tb), Matmul(a, b), 1e-5 * static_cast<double>(k), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulTest, ::testing::ValuesIn(kMatmul),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(MatmulValueTest, Float16) {
  HostArray a = Quantize(RandomHost({4, 8}, -1.0, 1.0), DType::kFloat16);
  HostArray b = Quantize(RandomHost({8, 3}, -1.0, 1.0), DType::kFloat16);
  Tensor out = ToTensor(a, DType::kFloat16).Matmul(ToTensor(b, DType::kFloat16));
  EXPECT_EQ(out.dtype(), DType::kFloat16);
  ExpectClose(out, Matmul(a, b), 1e-2, 1e-2);
}

// ---------------------------------------------------------------- conv2d

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dParams p;
  bool bias = false;
};

const ConvCase kConv[] = {
    {"K3Pad1", {1, 2, 5, 5}, {3, 2, 3, 3}, {1, 1, 1, 1}},
    {"K3Stride2Pad1", {2, 3, 7, 7}, {4, 3, 3, 3}, {2, 2, 1, 1}},
    {"Dilation2", {1, 2, 9, 9}, {2, 2, 3, 3}, {1, 1, 0, 0, 2, 2}},
    {"Groups2", {1, 4, 6, 6}, {6, 2, 3, 3}, {1, 1, 1, 1, 1, 1, 2}},
    {"Depthwise", {1, 3, 5, 5}, {3, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 3}},
    {"OneByOne", {2, 3, 5, 4}, {5, 3, 1, 1}, {}},
    {"OddNonSquare", {1, 1, 7, 11}, {2, 1, 3, 5}, {2, 1, 1, 2}},
    {"WithBias", {2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1, 1, 1}, true},
    // Stride larger than the kernel (windows skip input) and dilation with stride.
    {"K1Stride2", {1, 2, 5, 5}, {3, 2, 1, 1}, {2, 2}},
    {"Dilation2Stride2Pad2", {1, 2, 8, 7}, {2, 2, 3, 3}, {2, 2, 2, 2, 2, 2}},
};

class Conv2dTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2dTest, MatchesReference) {
  const ConvCase& c = GetParam();
  HostArray x = RandomHost(c.x), w = RandomHost(c.w, -1, 1);
  HostArray bias = RandomHost({c.w[0]});
  Tensor out = ToTensor(x).Conv2d(ToTensor(w), c.bias ? ToTensor(bias) : Tensor(), {c.p.stride_h, c.p.stride_w},
                                  {c.p.pad_h, c.p.pad_w}, {c.p.dil_h, c.p.dil_w}, c.p.groups);
  double k = static_cast<double>(c.w[1] * c.w[2] * c.w[3]);
  ExpectClose(out, Conv2d(x, w, c.bias ? &bias : nullptr, c.p), 1e-5 * k, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv2dTest, ::testing::ValuesIn(kConv),
                         [](const auto& info) { return std::string(info.param.name); });

// An NHWC input permuted to NCHW (a non-contiguous view) and a flipped kernel.
TEST(Conv2dViewTest, PermutedInputFlippedWeight) {
  HostArray x = RandomHost({1, 5, 6, 2}), w = RandomHost({3, 2, 3, 3}, -1.0, 1.0);
  Tensor out = ToTensor(x).Permute({0, 3, 1, 2}).Conv2d(ToTensor(w).Flip({2, 3}), Tensor(), {1, 1}, {1, 1});
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  ExpectClose(out, Conv2d(Permute(x, {0, 3, 1, 2}), Flip(w, {2, 3}), nullptr, p), 2e-4);
}

// ---------------------------------------------------------------- pools

struct PoolCase {
  const char* name;
  bool is_max;
  Shape x;
  std::pair<int64_t, int64_t> kernel, stride, padding;
};

const PoolCase kPools[] = {
    {"Max2x2Stride2", true, {1, 2, 6, 6}, {2, 2}, {2, 2}, {0, 0}},
    {"Max3x3Stride2Pad1", true, {2, 3, 7, 7}, {3, 3}, {2, 2}, {1, 1}},
    {"MaxDefaultStrideOdd", true, {1, 1, 5, 7}, {2, 2}, {0, 0}, {0, 0}},
    {"Avg2x2Stride2", false, {1, 2, 6, 6}, {2, 2}, {2, 2}, {0, 0}},
    {"Avg3x3Stride1Pad1", false, {1, 2, 5, 5}, {3, 3}, {1, 1}, {1, 1}},
    {"AvgNonSquareKernel", false, {2, 1, 7, 6}, {3, 2}, {2, 1}, {0, 0}},
    {"Max2x2Stride3", true, {1, 1, 7, 7}, {2, 2}, {3, 3}, {0, 0}},
    {"Avg3x3Stride2Pad1Odd", false, {1, 2, 7, 5}, {3, 3}, {2, 2}, {1, 1}},
};

class PoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolTest, MatchesReference) {
  const PoolCase& c = GetParam();
  HostArray x = RandomHost(c.x);
  Tensor tx = ToTensor(x);
  Tensor out = c.is_max ? tx.MaxPool2d(c.kernel, c.stride, c.padding) : tx.AvgPool2d(c.kernel, c.stride, c.padding);
  ExpectClose(out, Pool2d(x, c.is_max, c.kernel, c.stride, c.padding), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Cases, PoolTest, ::testing::ValuesIn(kPools),
                         [](const auto& info) { return std::string(info.param.name); });

// Pools slide over the last two dims of any input with at least two (e.g. (C, H, W)).
TEST(PoolValueTest, ThreeDimInput) {
  HostArray x = RandomHost({2, 5, 5});
  HostArray want = Pool2d(Reshape(x, {1, 2, 5, 5}), true, {2, 2}, {1, 1}, {0, 0});
  ExpectClose(ToTensor(x).MaxPool2d({2, 2}, {1, 1}), Reshape(want, {2, 4, 4}), 0, 0);
}

// ---------------------------------------------------------------- softmax, log_softmax

struct SoftmaxCase {
  const char* name;
  Shape shape;
  int axis;
  bool transposed = false;  // input is the transpose of a random (.., b, a)
};

const SoftmaxCase kSoftmax[] = {
    {"Rows3x17", {3, 17}, -1},
    {"Cols3x17", {3, 17}, 0},
    {"Middle2x3x5", {2, 3, 5}, 1},
    {"Size1", {1, 1}, -1},
    {"Transposed", {4, 7}, -1, true},
};

class SoftmaxTest : public ::testing::TestWithParam<SoftmaxCase> {};

TEST_P(SoftmaxTest, SoftmaxAndLogSoftmax) {
  const SoftmaxCase& c = GetParam();
  Shape s = c.shape;
  if (c.transposed) std::swap(s[0], s[1]);
  HostArray x = RandomHost(s, -4, 4);
  Tensor t = ToTensor(x);
  if (c.transposed) {
    t = t.Transpose();
    x = Transpose(x);
  }
  ExpectClose(t.Softmax(c.axis), Softmax(x, c.axis), 1e-6, 1e-4);
  ExpectClose(t.LogSoftmax(c.axis), LogSoftmax(x, c.axis), 1e-5, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Cases, SoftmaxTest, ::testing::ValuesIn(kSoftmax),
                         [](const auto& info) { return std::string(info.param.name); });

// Large logits must not overflow (the max is subtracted first).
TEST(SoftmaxValueTest, LargeLogitsAreStable) {
  HostArray x = RandomHost({2, 5}, 80.0, 120.0);
  ExpectClose(ToTensor(x).Softmax(), Softmax(x), 1e-6, 1e-4);
  ExpectClose(ToTensor(x).LogSoftmax(), LogSoftmax(x), 1e-4, 1e-4);
}

// ---------------------------------------------------------------- cross entropy

struct CrossEntropyCase {
  const char* name;
  int64_t n, c;
  double label_smoothing;
};

class CrossEntropyTest : public ::testing::TestWithParam<CrossEntropyCase> {};

TEST_P(CrossEntropyTest, MatchesReference) {
  const CrossEntropyCase& c = GetParam();
  HostArray logits = RandomHost({c.n, c.c}, -3.0, 3.0);
  HostArray targets = RandomIntHost({c.n}, 0, c.c - 1);
  std::vector<int64_t> tv(targets.data.begin(), targets.data.end());
  Tensor loss = ToTensor(logits).CrossEntropy(ToTensor(targets, DType::kInt32), c.label_smoothing);
  ASSERT_TRUE(loss.ok()) << loss.status().ToString();
  EXPECT_EQ(loss.shape(), Shape{});
  ExpectClose(loss, HostArray{{}, {CrossEntropy(logits, tv, c.label_smoothing)}}, 1e-5, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Cases, CrossEntropyTest,
                         ::testing::Values(CrossEntropyCase{"Batch4Classes7", 4, 7, 0},
                                           CrossEntropyCase{"LabelSmoothing", 4, 7, 0.1},
                                           CrossEntropyCase{"OneRowThreeClasses", 1, 3, 0},
                                           CrossEntropyCase{"Batch9Classes2", 9, 2, 0}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- chains

TEST(NnChainTest, ReluOfAffine) {
  HostArray x = RandomHost({5, 7}), w = RandomHost({7, 3}), b = RandomHost({3});
  Tensor out = (ToTensor(x).Matmul(ToTensor(w)) + ToTensor(b)).Relu();
  HostArray ref = Map(Zip(Matmul(x, w), b, [](double u, double v) { return u + v; }),
                      [](double v) { return v > 0 ? v : 0; });
  ExpectClose(out, ref, 1e-4);
}

TEST(NnChainTest, SumOfMulAdd) {
  HostArray a = RandomHost({4, 9}), b = RandomHost({4, 9}), c = RandomHost({9});
  Tensor out = (ToTensor(a) * ToTensor(b) + ToTensor(c)).Sum();
  HostArray ref = Sum(Zip(Zip(a, b, [](double x, double y) { return x * y; }), c,
                          [](double x, double y) { return x + y; }));
  ExpectClose(out, ref, 1e-4);
}

TEST(NnChainTest, TwoLayerMlpWithSoftmax) {
  HostArray x = RandomHost({6, 8}), w1 = RandomHost({8, 16}, -0.5, 0.5), w2 = RandomHost({16, 4}, -0.5, 0.5);
  Tensor out = ToTensor(x).Matmul(ToTensor(w1)).Relu().Matmul(ToTensor(w2)).Softmax();
  HostArray h = Map(Matmul(x, w1), [](double v) { return v > 0 ? v : 0; });
  ExpectClose(out, Softmax(Matmul(h, w2)), 1e-5, 1e-4);
}

TEST(NnChainTest, LayerNorm) {
  HostArray x = RandomHost({3, 10});
  Tensor t = ToTensor(x);
  Tensor out = (t - t.Mean({-1}, true)) / (t.Var({-1}, true, 0) + 1e-5).Sqrt();
  HostArray centered = Zip(x, Mean(x, {-1}, true), [](double a, double m) { return a - m; });
  HostArray ref = Zip(centered, Var(x, {-1}, true, 0), [](double c, double v) { return c / std::sqrt(v + 1e-5); });
  ExpectClose(out, ref, 1e-4, 1e-3);
}

TEST(NnChainTest, ConvReluPoolFlattenLinear) {
  HostArray x = RandomHost({2, 1, 6, 6}), w = RandomHost({2, 1, 3, 3}, -1.0, 1.0), fc = RandomHost({8, 3}, -1.0, 1.0);
  Tensor out = ToTensor(x).Conv2d(ToTensor(w), Tensor(), {1, 1}, {1, 1}).Relu().MaxPool2d({3, 3}).Flatten(1).Matmul(
      ToTensor(fc));
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  HostArray h = Map(Conv2d(x, w, nullptr, p), [](double v) { return v > 0 ? v : 0; });
  HostArray pooled = Reshape(Pool2d(h, true, {3, 3}, {0, 0}, {0, 0}), {2, 8});
  ExpectClose(out, Matmul(pooled, fc), 1e-4);
}

TEST(NnChainTest, MatmulOfRealizedThenTransposed) {
  HostArray a = RandomHost({3, 5}), b = RandomHost({3, 4});
  Tensor ta = ToTensor(a).Exp();
  ASSERT_TRUE(ta.Realize().ok());
  HostArray ea = Map(a, [](double v) { return std::exp(v); });
  ExpectClose(ta.Transpose().Matmul(ToTensor(b)), Matmul(Transpose(ea), b), 1e-4);
}

}  // namespace
}  // namespace petabox
