// Gradients of the reductions (SUM and MAX primitives; min, mean, var composed) and of the
// movement ops (RESHAPE, PERMUTE, EXPAND, PAD, SHRINK, FLIP, CONTIGUOUS, COPY, DETACH, and
// slice/cat/stack built from them) against double-precision finite differences, plus the
// tie-splitting of MAX reductions.
#include <cmath>
#include <functional>
#include <string>
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

struct ShapeOpCase {
  const char* name;
  Shape shape;
  bool distinct;  // inputs pairwise far apart (max/min: no tie within a finite-difference step)
  std::function<Tensor(const Tensor&)> engine;
  std::function<HostArray(const HostArray&)> host;
};

const ShapeOpCase kReduce[] = {
    {"SumAll", {2, 3, 4}, false, [](const Tensor& x) { return x.Sum(); }, [](const HostArray& x) { return Sum(x); }},
    {"SumAxis0", {2, 3, 4}, false, [](const Tensor& x) { return x.Sum({0}); },
     [](const HostArray& x) { return Sum(x, {0}); }},
    {"SumAxes12", {2, 3, 4}, false, [](const Tensor& x) { return x.Sum({1, 2}); },
     [](const HostArray& x) { return Sum(x, {1, 2}); }},
    {"SumNegativeAxesKeepdim", {2, 3, 4}, false, [](const Tensor& x) { return x.Sum({-1, 0}, true); },
     [](const HostArray& x) { return Sum(x, {-1, 0}, true); }},
    // A nonlinearity after the sum, so the broadcast-back of the gradient carries values.
    {"SumThenSquare", {3, 4}, false, [](const Tensor& x) { return x.Sum({1}).Pow(2); },
     [](const HostArray& x) { return Map(Sum(x, {1}), [](double v) { return v * v; }); }},
    {"MaxAll", {2, 3, 4}, true, [](const Tensor& x) { return x.Max(); }, [](const HostArray& x) { return Max(x); }},
    {"MaxAxis1", {2, 3, 4}, true, [](const Tensor& x) { return x.Max({1}); },
     [](const HostArray& x) { return Max(x, {1}); }},
    {"MaxAxes02Keepdim", {2, 3, 4}, true, [](const Tensor& x) { return x.Max({0, 2}, true); },
     [](const HostArray& x) { return Max(x, {0, 2}, true); }},
    {"MaxThenExp", {3, 5}, true, [](const Tensor& x) { return x.Max({-1}).Exp(); },
     [](const HostArray& x) { return Map(Max(x, {-1}), [](double v) { return std::exp(v); }); }},
    {"MinAxis0", {4, 3}, true, [](const Tensor& x) { return x.Min({0}); },
     [](const HostArray& x) { return Min(x, {0}); }},
    {"MeanAll", {3, 4}, false, [](const Tensor& x) { return x.Mean(); }, [](const HostArray& x) { return Mean(x); }},
    {"MeanAxes", {2, 3, 4}, false, [](const Tensor& x) { return x.Mean({0, 2}, true); },
     [](const HostArray& x) { return Mean(x, {0, 2}, true); }},
    {"VarAll", {3, 4}, false, [](const Tensor& x) { return x.Var(); }, [](const HostArray& x) { return Var(x); }},
    {"VarAxisUnbiased", {3, 5}, false, [](const Tensor& x) { return x.Var({1}); },
     [](const HostArray& x) { return Var(x, {1}); }},
    {"VarAxesBiasedKeepdim", {2, 3, 4}, false, [](const Tensor& x) { return x.Var({0, 2}, true, 0); },
     [](const HostArray& x) { return Var(x, {0, 2}, true, 0); }},
};

const ShapeOpCase kMovement[] = {
    {"Reshape", {2, 3, 4}, false, [](const Tensor& x) { return x.Reshape({4, -1}).Exp(); },
     [](const HostArray& x) { return Map(Reshape(x, {4, 6}), [](double v) { return std::exp(v); }); }},
    {"FlattenUnsqueezeSqueeze", {2, 3, 4}, false,
     [](const Tensor& x) { return x.Flatten(1).Unsqueeze(0).Squeeze(0).Sin(); },
     [](const HostArray& x) { return Map(Reshape(x, {2, 12}), [](double v) { return std::sin(v); }); }},
    {"Permute", {2, 3, 4}, false, [](const Tensor& x) { return x.Permute({2, 0, 1}).Exp(); },
     [](const HostArray& x) { return Map(Permute(x, {2, 0, 1}), [](double v) { return std::exp(v); }); }},
    {"Transpose", {3, 4}, false, [](const Tensor& x) { return x.Transpose() * x.Transpose(); },
     [](const HostArray& x) { return Map(Transpose(x), [](double v) { return v * v; }); }},
    {"Expand", {3, 1}, false, [](const Tensor& x) { return x.Expand({2, 3, 4}).Exp(); },
     [](const HostArray& x) { return Map(Expand(x, {2, 3, 4}), [](double v) { return std::exp(v); }); }},
    {"ExpandKeepDim", {1, 4}, false, [](const Tensor& x) { return x.Expand({3, -1}); },
     [](const HostArray& x) { return Expand(x, {3, 4}); }},
    {"PadZeros", {3, 4}, false, [](const Tensor& x) { return x.Exp().Pad({{1, 2}, {0, 1}}); },
     [](const HostArray& x) { return Pad(Map(x, [](double v) { return std::exp(v); }), {{1, 2}, {0, 1}}); }},
    {"PadValue", {3, 4}, false, [](const Tensor& x) { return x.Pad({{0, 1}, {2, 1}}, 1.5).Exp(); },
     [](const HostArray& x) { return Map(Pad(x, {{0, 1}, {2, 1}}, 1.5), [](double v) { return std::exp(v); }); }},
    {"Shrink", {4, 5}, false, [](const Tensor& x) { return x.Shrink({{1, 3}, {2, 5}}).Exp(); },
     [](const HostArray& x) { return Map(Shrink(x, {{1, 3}, {2, 5}}), [](double v) { return std::exp(v); }); }},
    {"Flip", {3, 4}, false, [](const Tensor& x) { return x.Flip({0, 1}) * x; },
     [](const HostArray& x) { return Zip(Flip(x, {0, 1}), x, [](double a, double b) { return a * b; }); }},
    {"Contiguous", {3, 4}, false, [](const Tensor& x) { return x.Transpose().Contiguous().Exp() * x.Transpose(); },
     [](const HostArray& x) {
       return Zip(Transpose(x), Transpose(x), [](double a, double b) { return std::exp(a) * b; });
     }},
    {"SliceStep2", {3, 7}, false, [](const Tensor& x) { return x.Slice(1, 0, 7, 2).Exp(); },
     [](const HostArray& x) { return Map(Slice(x, 1, 0, 7, 2), [](double v) { return std::exp(v); }); }},
    {"SliceStep3Offset", {8, 2}, false, [](const Tensor& x) { return x.Slice(0, 1, -1, 3).Exp(); },
     [](const HostArray& x) { return Map(Slice(x, 0, 1, -1, 3), [](double v) { return std::exp(v); }); }},
    {"SliceNegativeStep", {3, 7}, false, [](const Tensor& x) { return x.Slice(-1, -2, 0, -2).Exp(); },
     [](const HostArray& x) { return Map(Slice(x, -1, -2, 0, -2), [](double v) { return std::exp(v); }); }},
};

class GradReduceTest : public ::testing::TestWithParam<ShapeOpCase> {};
class GradMovementTest : public ::testing::TestWithParam<ShapeOpCase> {};

void RunShapeOpCase(const ShapeOpCase& c) {
  HostArray x = c.distinct ? DistinctHost(c.shape) : RandomHost(c.shape, NextSeed(), -1.5, 1.5);
  ExpectGradient(x, c.engine, c.host);
}

TEST_P(GradReduceTest, MatchesFiniteDifferences) { RunShapeOpCase(GetParam()); }
TEST_P(GradMovementTest, MatchesFiniteDifferences) { RunShapeOpCase(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Grad, GradReduceTest, ::testing::ValuesIn(kReduce),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Grad, GradMovementTest, ::testing::ValuesIn(kMovement),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- max-reduce ties

// Tied maxima share the gradient equally; the others get none.
TEST(GradTieTest, MaxReduceSplitsTies) {
  Tensor x = Tensor::FromVector({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4});
  x.RequiresGrad();
  Tensor r = Tensor::FromVector({2, 6}, {2});
  ASSERT_TRUE(x.Max({1}).Mul(r).Sum().Backward().ok());
  ExpectClose(x.grad(), HostArray{{2, 4}, {0, 1, 1, 0, 2, 2, 2, 0}});
}

TEST(GradTieTest, MaxReduceAllEqual) {
  Tensor x = Tensor::Full({2, 2}, 0.5).Contiguous();
  x.RequiresGrad();
  ASSERT_TRUE(x.Max().Backward().ok());
  ExpectClose(x.grad(), HostArray{{2, 2}, {0.25, 0.25, 0.25, 0.25}});
}

// ---------------------------------------------------------------- cat, stack

TEST(GradCatTest, ThreePiecesAlongAxis1) {
  ExpectGradients(
      {RandomHost({2, 1, 3}), RandomHost({2, 3, 3}), RandomHost({2, 2, 3})},
      [](const std::vector<Tensor>& in) { return Tensor::Cat({in[0], in[1].Exp(), in[2]}, 1) * 2.0; },
      [](const Inputs& in) {
        HostArray e = Map(in[1], [](double v) { return std::exp(v); });
        return Map(Cat({in[0], e, in[2]}, 1), [](double v) { return 2 * v; });
      });
}

TEST(GradCatTest, SameTensorTwice) {
  ExpectGradient(
      RandomHost({3, 2}), [](const Tensor& x) { return Tensor::Cat({x, x.Exp(), x}, 0); },
      [](const HostArray& x) { return Cat({x, Map(x, [](double v) { return std::exp(v); }), x}, 0); });
}

TEST(GradStackTest, Axis0AndLast) {
  ExpectGradients(
      {RandomHost({3, 4}), RandomHost({3, 4})},
      [](const std::vector<Tensor>& in) {
        return Tensor::Stack({in[0], in[1]}, 0) * Tensor::Stack({in[1], in[0]}, -1).Permute({2, 0, 1});
      },
      [](const Inputs& in) {
        return Zip(Stack({in[0], in[1]}, 0), Permute(Stack({in[1], in[0]}, -1), {2, 0, 1}),
                   [](double a, double b) { return a * b; });
      });
}

// ---------------------------------------------------------------- copy, detach

// A round trip through another device: the gradient comes back to the leaf's device.
TEST(GradCopyTest, ToOtherDeviceAndBack) {
  HostArray x = RandomHost({3, 4});
  Tensor t = ToTensor(x);
  t.RequiresGrad();
  const std::string home = t.device();
  std::string other = home == "CPU:1" ? "CPU:0" : "CPU:1";
  Tensor y = t.To(other).Exp().Mul(2.0).To(home);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  HostArray r = RandomHost({3, 4}, NextSeed(), -1, 1);
  ASSERT_TRUE(y.Mul(ToTensor(r)).Sum().Backward().ok());
  ASSERT_TRUE(t.grad().node() != nullptr);
  EXPECT_EQ(t.grad().device(), home);
  ExpectClose(t.grad(), Zip(x, r, [](double v, double w) { return 2 * std::exp(v) * w; }));
}

// Only the non-detached factor of x.detach() * x carries a gradient.
TEST(GradDetachTest, DetachedFactorIsConstant) {
  HostArray x = RandomHost({5});
  Tensor t = ToTensor(x);
  t.RequiresGrad();
  Tensor y = t.Detach() * t + t.Detach().Exp();
  HostArray r = RandomHost({5}, NextSeed(), -1, 1);
  ASSERT_TRUE(y.Mul(ToTensor(r)).Sum().Backward().ok());
  ExpectClose(t.grad(), Zip(x, r, [](double v, double w) { return v * w; }));
}

TEST(GradDetachTest, FullyDetachedGivesZeros) {
  Tensor t = ToTensor(RandomHost({4}));
  t.RequiresGrad();
  auto g = Gradients(t.Detach().Exp().Sum(), {t});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ExpectClose((*g)[0], HostArray::Filled({4}, 0));
}

}  // namespace
}  // namespace petabox
