// Conformance of the reductions (sum, max, min, mean, var, argmax) against the naive host
// reference: axes (incl. negative and all), keepdim, size-1, odd and long axes, views.
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

struct ReduceOp {
  const char* name;
  std::function<Tensor(const Tensor&, const std::vector<int>&, bool)> op;
  std::function<HostArray(const HostArray&, const std::vector<int>&, bool)> ref;
  // Absolute tolerance per reduced element (sums of n terms carry ~n roundings).
  double atol_per_element = 2e-6;
  double rtol = 1e-4;
};

// Var uses Bessel's correction, except over a single element (where it would divide by 0).
double Correction(const Shape& shape, const std::vector<int>& axes) { return ReduceCount(shape, axes) > 1 ? 1 : 0; }

const ReduceOp kReduceOps[] = {
    {"Sum", [](const Tensor& t, const std::vector<int>& ax, bool k) { return t.Sum(ax, k); },
     [](const HostArray& a, const std::vector<int>& ax, bool k) { return Sum(a, ax, k); }},
    {"Max", [](const Tensor& t, const std::vector<int>& ax, bool k) { return t.Max(ax, k); },
     [](const HostArray& a, const std::vector<int>& ax, bool k) { return Max(a, ax, k); }, 0, 0},
    {"Min", [](const Tensor& t, const std::vector<int>& ax, bool k) { return t.Min(ax, k); },
     [](const HostArray& a, const std::vector<int>& ax, bool k) { return Min(a, ax, k); }, 0, 0},
    {"Mean", [](const Tensor& t, const std::vector<int>& ax, bool k) { return t.Mean(ax, k); },
     [](const HostArray& a, const std::vector<int>& ax, bool k) { return Mean(a, ax, k); }, 2e-7},
    {"Var",
     [](const Tensor& t, const std::vector<int>& ax, bool k) { return t.Var(ax, k, Correction(t.shape(), ax)); },
     [](const HostArray& a, const std::vector<int>& ax, bool k) { return Var(a, ax, k, Correction(a.shape, ax)); },
     1e-6, 1e-3},
};

struct ReduceLayout {
  const char* name;
  Shape shape;
  std::vector<int> axes;
  bool keepdim;
};

const ReduceLayout kReduceLayouts[] = {
    {"Size1All", {1}, {}, false},
    {"Odd7Axis0", {7}, {0}, false},
    {"Rows3x17", {3, 17}, {1}, false},
    {"Cols3x17Keepdim", {3, 17}, {0}, true},
    {"Axes0And2", {2, 3, 5}, {0, 2}, false},
    {"NegativeAxesKeepdim", {2, 3, 5}, {-1, -3}, true},
    {"Size1Axis", {4, 1, 3}, {1}, false},
    {"AllOf33x4", {33, 4}, {}, false},
    {"LongAxis4x257", {4, 257}, {-1}, false},
};

class ReduceTest : public ::testing::TestWithParam<std::tuple<ReduceOp, ReduceLayout>> {};

TEST_P(ReduceTest, MatchesReference) {
  const auto& [op, layout] = GetParam();
  HostArray a = RandomHost(layout.shape);
  Tensor out = op.op(ToTensor(a), layout.axes, layout.keepdim);
  EXPECT_EQ(out.dtype(), DType::kFloat32);
  double n = static_cast<double>(ReduceCount(layout.shape, layout.axes));
  ExpectClose(out, op.ref(a, layout.axes, layout.keepdim), 1e-6 + op.atol_per_element * n, op.rtol);
}

INSTANTIATE_TEST_SUITE_P(Ops, ReduceTest,
                         ::testing::Combine(::testing::ValuesIn(kReduceOps), ::testing::ValuesIn(kReduceLayouts)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
                         });

// ---------------------------------------------------------------- reductions of views

TEST(ReduceViewTest, SumOfTransposed) {
  HostArray a = RandomHost({5, 7});
  ExpectClose(ToTensor(a).Transpose().Sum({0}), Sum(Transpose(a), {0}), 1e-5);
}

TEST(ReduceViewTest, MaxOfPaddedWithValue) {
  // The pad value (3) exceeds every input, so it must win exactly where rows are padded.
  HostArray a = RandomHost({3, 5});
  ExpectClose(ToTensor(a).Pad({{1, 1}, {0, 2}}, 3).Max({1}), Max(Pad(a, {{1, 1}, {0, 2}}, 3), {1}), 0, 0);
  ExpectClose(ToTensor(a).Pad({{1, 1}, {0, 0}}, -5).Min({0}, true), Min(Pad(a, {{1, 1}, {0, 0}}, -5), {0}, true),
              0, 0);
}

TEST(ReduceViewTest, SumOfFlippedSlice) {
  HostArray a = RandomHost({6, 9});
  ExpectClose(ToTensor(a).Flip({0}).Slice(1, 1, 8, 3).Sum({-1}), Sum(Slice(Flip(a, {0}), 1, 1, 8, 3), {-1}), 1e-5);
}

TEST(ReduceViewTest, MeanOfExpanded) {
  HostArray a = RandomHost({3, 1});
  ExpectClose(ToTensor(a).Expand({3, 4}).Mean({1}), Mean(Expand(a, {3, 4}), {1}), 1e-6);
}

TEST(ReduceViewTest, SumOfPermuted) {
  HostArray a = RandomHost({2, 3, 4});
  ExpectClose(ToTensor(a).Permute({2, 0, 1}).Sum({1}), Sum(Permute(a, {2, 0, 1}), {1}), 1e-5);
}

TEST(ReduceViewTest, OnRealizedThenViewed) {
  HostArray a = RandomHost({4, 6});
  Tensor e = ToTensor(a).Exp();
  ASSERT_TRUE(e.Realize().ok());
  HostArray eref = Map(a, [](double x) { return std::exp(x); });
  ExpectClose(e.Transpose().Max({1}), Max(Transpose(eref), {1}), 1e-5);
  ExpectClose(e.Reshape({3, 8}).Sum({0}), Sum(Reshape(eref, {3, 8}), {0}), 1e-4);
}

TEST(ReduceValueTest, ItemOfFullSum) {
  HostArray a = RandomHost({3, 5});
  StatusOr<double> v = ToTensor(a).Sum().Item();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NEAR(*v, Sum(a).data[0], 1e-5);
  EXPECT_EQ(ToTensor(a).Sum().shape(), Shape{});
}

TEST(ReduceValueTest, IntAndBoolInputs) {
  HostArray a = RandomIntHost({3, 5}, -100, 100);
  ExpectClose(ToTensor(a, DType::kInt32).Sum({1}), Sum(a, {1}), 0, 0);
  ExpectClose(ToTensor(a, DType::kInt32).Max({0}), Max(a, {0}), 0, 0);
  HostArray flags = RandomIntHost({4, 6}, 0, 1);
  ExpectClose(ToTensor(flags, DType::kBool).Sum({1}), Sum(flags, {1}), 0, 0);
}

TEST(ReduceValueTest, VarCorrectionZero) {
  HostArray a = RandomHost({3, 7});
  ExpectClose(ToTensor(a).Var({1}, false, 0), Var(a, {1}, false, 0), 1e-5, 1e-3);
}

TEST(ReduceValueTest, Float16SumAndMean) {
  HostArray a = Quantize(RandomHost({3, 17}), DType::kFloat16);
  Tensor t = ToTensor(a, DType::kFloat16);
  ExpectClose(t.Sum({1}), Sum(a, {1}), 5e-2, 1e-2);
  ExpectClose(t.Mean({1}), Mean(a, {1}), 5e-3, 1e-2);
  ExpectClose(t.Max({1}), Max(a, {1}), 0, 0);
}

// ---------------------------------------------------------------- argmax

struct ArgmaxCase {
  const char* name;
  Shape shape;
  int axis;
  bool keepdim;
};

const ArgmaxCase kArgmax[] = {
    {"Odd7", {7}, 0, false},          {"Rows3x17", {3, 17}, 1, false},       {"Cols3x17Keepdim", {3, 17}, 0, true},
    {"Last2x3x5", {2, 3, 5}, -1, false}, {"Middle2x3x5Keepdim", {2, 3, 5}, -2, true}, {"Size1Axis", {3, 1}, 1, false},
};

class ArgmaxTest : public ::testing::TestWithParam<ArgmaxCase> {};

TEST_P(ArgmaxTest, MatchesReference) {
  const ArgmaxCase& c = GetParam();
  HostArray a = RandomHost(c.shape);
  Tensor out = ToTensor(a).Argmax(c.axis, c.keepdim);
  EXPECT_EQ(out.dtype(), DType::kInt32);
  ExpectClose(out, Argmax(a, c.axis, c.keepdim), 0, 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ArgmaxTest, ::testing::ValuesIn(kArgmax),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ArgmaxValueTest, FirstOfTiesWins) {
  Tensor t = Tensor::FromVector({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4});
  ExpectClose(t.Argmax(1), HostArray{{2}, {1, 0}}, 0, 0);
  ExpectClose(Tensor::FromVector({2, 2, 2}, {3}).Argmax(0), HostArray{{}, {0}}, 0, 0);
}

TEST(ArgmaxValueTest, OfNonContiguousView) {
  HostArray a = RandomHost({5, 4});
  ExpectClose(ToTensor(a).Transpose().Flip({1}).Argmax(1), Argmax(Flip(Transpose(a), {1}), 1), 0, 0);
}

}  // namespace
}  // namespace petabox
