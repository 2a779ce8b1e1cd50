// Gradients of the elementwise ops against double-precision finite differences: the unary
// and binary primitives (EXP2, LOG2, SIN, SQRT, RECIP, NEG, CAST, ADD, MUL, MAX, WHERE) and
// the math composed from them (sub, div, pow, exp, log, sigmoid, tanh, gelu, relu, abs, ...),
// including broadcasting (EXPAND in the forward, a SUM in the backward) and MAX ties.
#include <algorithm>
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

// ---------------------------------------------------------------- unary

using InputFn = std::function<HostArray(const Shape&)>;

InputFn Uniform(double lo, double hi) {
  return [lo, hi](const Shape& s) { return RandomHost(s, NextSeed(), lo, hi); };
}
// |x| in [lo, hi) with random sign: keeps x = 0 (the kink of relu/abs, the pole of 1/x) away.
InputFn AwayFromZero(double lo, double hi) {
  return [lo, hi](const Shape& s) { return RandomAwayFromZero(s, lo, hi); };
}

// For clip(2x, -1, 1): |x| in [0.1, 0.45) or [0.65, 1), random sign, so 2x is never within
// 0.3 of the kinks at +-1 (and some values lie on each side of them).
HostArray AwayFromClipKinks(const Shape& s) {
  HostArray x = RandomAwayFromZero(s, 0.1, 0.8);
  return Map(x, [](double v) {
    double m = std::fabs(v) < 0.45 ? std::fabs(v) : std::fabs(v) + 0.2;
    return static_cast<double>(static_cast<float>(v < 0 ? -m : m));
  });
}

struct UnaryCase {
  const char* name;
  InputFn input;
  std::function<Tensor(const Tensor&)> engine;
  std::function<double(double)> host;
  Tolerance tol = {};
};

const UnaryCase kUnary[] = {
    // primitives
    {"Exp2", Uniform(-2, 2), [](const Tensor& x) { return x.Exp2(); }, [](double v) { return std::exp2(v); }},
    {"Log2", Uniform(0.25, 3), [](const Tensor& x) { return x.Log2(); }, [](double v) { return std::log2(v); }},
    {"Sin", Uniform(-3, 3), [](const Tensor& x) { return x.Sin(); }, [](double v) { return std::sin(v); }},
    {"Sqrt", Uniform(0.25, 3), [](const Tensor& x) { return x.Sqrt(); }, [](double v) { return std::sqrt(v); }},
    {"Reciprocal", AwayFromZero(0.5, 2), [](const Tensor& x) { return x.Reciprocal(); },
     [](double v) { return 1 / v; }},
    {"Neg", Uniform(-2, 2), [](const Tensor& x) { return x.Neg(); }, [](double v) { return -v; }},
    // composed
    {"Exp", Uniform(-2, 2), [](const Tensor& x) { return x.Exp(); }, [](double v) { return std::exp(v); }},
    {"Log", Uniform(0.25, 3), [](const Tensor& x) { return x.Log(); }, [](double v) { return std::log(v); }},
    {"Cos", Uniform(-3, 3), [](const Tensor& x) { return x.Cos(); }, [](double v) { return std::cos(v); }},
    {"Rsqrt", Uniform(0.25, 3), [](const Tensor& x) { return x.Rsqrt(); },
     [](double v) { return 1 / std::sqrt(v); }},
    {"Sigmoid", Uniform(-4, 4), [](const Tensor& x) { return x.Sigmoid(); }, [](double v) { return Sigmoid(v); }},
    {"Tanh", Uniform(-3, 3), [](const Tensor& x) { return x.Tanh(); }, [](double v) { return std::tanh(v); }},
    {"Gelu", Uniform(-3, 3), [](const Tensor& x) { return x.Gelu(); }, [](double v) { return GeluTanh(v); }},
    {"Relu", AwayFromZero(0.1, 2), [](const Tensor& x) { return x.Relu(); },
     [](double v) { return std::max(v, 0.0); }},
    {"Abs", AwayFromZero(0.1, 2), [](const Tensor& x) { return x.Abs(); }, [](double v) { return std::fabs(v); }},
    {"Clip", AwayFromClipKinks, [](const Tensor& x) { return x.Mul(2).Clip(-1, 1); },
     [](double v) { return std::clamp(2 * v, -1.0, 1.0); }},
    {"Square", Uniform(-2, 2), [](const Tensor& x) { return x.Pow(2); }, [](double v) { return v * v; }},
    {"PowNegativeBaseOddExponent", AwayFromZero(0.25, 2), [](const Tensor& x) { return x.Pow(3); },
     [](double v) { return v * v * v; }},
    {"PowFractionalExponent", Uniform(0.25, 3), [](const Tensor& x) { return x.Pow(2.5); },
     [](double v) { return std::pow(v, 2.5); }},
    {"PowNegativeExponent", Uniform(0.5, 3), [](const Tensor& x) { return x.Pow(-1.5); },
     [](double v) { return std::pow(v, -1.5); }},
    {"PowHalf", Uniform(0.25, 3), [](const Tensor& x) { return x.Pow(0.5); }, [](double v) { return std::sqrt(v); }},
    {"PowMinusOne", AwayFromZero(0.5, 2), [](const Tensor& x) { return x.Pow(-1); }, [](double v) { return 1 / v; }},
    {"ScalarArithmetic", Uniform(-2, 2), [](const Tensor& x) { return (x * 3.0 - 1.5) / 4.0 + 0.25; },
     [](double v) { return (v * 3 - 1.5) / 4 + 0.25; }},
};

class GradUnaryTest : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(GradUnaryTest, MatchesFiniteDifferences) {
  const UnaryCase& c = GetParam();
  ExpectGradient(
      c.input({3, 5}), c.engine, [&](const HostArray& x) { return Map(x, c.host); }, c.tol);
}

INSTANTIATE_TEST_SUITE_P(Grad, GradUnaryTest, ::testing::ValuesIn(kUnary),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- binary

using Inputs = std::vector<HostArray>;

struct BinaryCase {
  const char* name;
  std::function<Inputs()> inputs;
  std::function<Tensor(const Tensor&, const Tensor&)> engine;
  std::function<double(double, double)> host;
};

// Two uniform operands of the given (broadcastable) shapes.
std::function<Inputs()> Pair(Shape a, Shape b, double lo = -2, double hi = 2) {
  return [=] { return Inputs{RandomHost(a, NextSeed(), lo, hi), RandomHost(b, NextSeed(), lo, hi)}; };
}
// Operands for maximum: all values of both pairwise distinct, so no tie lies within a step.
std::function<Inputs()> DistinctPair(Shape a, Shape b) {
  return [=] {
    HostArray all = DistinctHost({NumElements(a) + NumElements(b)});
    HostArray x = HostArray::Filled(a, 0), y = HostArray::Filled(b, 0);
    std::copy(all.data.begin(), all.data.begin() + x.numel(), x.data.begin());
    std::copy(all.data.begin() + x.numel(), all.data.end(), y.data.begin());
    return Inputs{x, y};
  };
}
// A uniform numerator and a denominator of magnitude in [0.5, 2).
std::function<Inputs()> Quotient(Shape a, Shape b) {
  return [=] { return Inputs{RandomHost(a, NextSeed(), -2, 2), RandomAwayFromZero(b, 0.5, 2)}; };
}

const BinaryCase kBinary[] = {
    {"Add", Pair({3, 4}, {3, 4}), [](const Tensor& a, const Tensor& b) { return a + b; },
     [](double a, double b) { return a + b; }},
    {"AddBroadcastRowColumn", Pair({3, 1}, {1, 4}), [](const Tensor& a, const Tensor& b) { return a + b; },
     [](double a, double b) { return a + b; }},
    {"Mul", Pair({3, 4}, {3, 4}), [](const Tensor& a, const Tensor& b) { return a * b; },
     [](double a, double b) { return a * b; }},
    {"MulBroadcastLeadingDims", Pair({2, 3, 4}, {4}), [](const Tensor& a, const Tensor& b) { return a * b; },
     [](double a, double b) { return a * b; }},
    {"MulBroadcastMiddle", Pair({2, 1, 4}, {3, 1}), [](const Tensor& a, const Tensor& b) { return a * b; },
     [](double a, double b) { return a * b; }},
    {"MaximumDistinct", DistinctPair({3, 4}, {3, 4}),
     [](const Tensor& a, const Tensor& b) { return a.Maximum(b); }, [](double a, double b) { return std::max(a, b); }},
    {"MaximumBroadcast", DistinctPair({3, 4}, {4}), [](const Tensor& a, const Tensor& b) { return a.Maximum(b); },
     [](double a, double b) { return std::max(a, b); }},
    {"MinimumDistinct", DistinctPair({3, 4}, {3, 4}),
     [](const Tensor& a, const Tensor& b) { return a.Minimum(b); }, [](double a, double b) { return std::min(a, b); }},
    {"Sub", Pair({3, 4}, {3, 4}), [](const Tensor& a, const Tensor& b) { return a - b; },
     [](double a, double b) { return a - b; }},
    {"SubBroadcast", Pair({4}, {3, 4}), [](const Tensor& a, const Tensor& b) { return a - b; },
     [](double a, double b) { return a - b; }},
    {"Div", Quotient({3, 4}, {3, 4}), [](const Tensor& a, const Tensor& b) { return a / b; },
     [](double a, double b) { return a / b; }},
    {"DivBroadcast", Quotient({3, 4}, {3, 1}), [](const Tensor& a, const Tensor& b) { return a / b; },
     [](double a, double b) { return a / b; }},
    {"PowTensorExponent", Pair({3, 4}, {3, 4}, 0.5, 2), [](const Tensor& a, const Tensor& b) { return a.Pow(b); },
     [](double a, double b) { return std::pow(a, b); }},
    {"PowTensorExponentBroadcast", Pair({3, 4}, {4}, 0.5, 2),
     [](const Tensor& a, const Tensor& b) { return a.Pow(b); }, [](double a, double b) { return std::pow(a, b); }},
};

class GradBinaryTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(GradBinaryTest, MatchesFiniteDifferences) {
  const BinaryCase& c = GetParam();
  ExpectGradients(
      c.inputs(), [&](const std::vector<Tensor>& in) { return c.engine(in[0], in[1]); },
      [&](const Inputs& in) { return Zip(in[0], in[1], c.host); });
}

INSTANTIATE_TEST_SUITE_P(Grad, GradBinaryTest, ::testing::ValuesIn(kBinary),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- ties, chains, cast, where

// Values of the gradient tensor, realized.
std::vector<double> Values(const Tensor& t) {
  EXPECT_TRUE(t.node() != nullptr) << "no gradient";
  auto v = t.ToDoubles();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::vector<double>();
}

// maximum(a, b) with a == b sends half the gradient to each operand.
TEST(GradTieTest, MaximumSplitsEqualInputs) {
  Tensor a = Tensor::FromVector({1, 2, 3, -1}, {4}), b = Tensor::FromVector({1, 5, 3, -2}, {4});
  a.RequiresGrad();
  b.RequiresGrad();
  Tensor r = Tensor::FromVector({2, 4, -6, 8}, {4});
  ASSERT_TRUE(a.Maximum(b).Mul(r).Sum().Backward().ok());
  EXPECT_EQ(Values(a.grad()), (std::vector<double>{1, 0, -3, 8}));
  EXPECT_EQ(Values(b.grad()), (std::vector<double>{1, 4, -3, 0}));
}

// A long chain of composed ops, so the backward rules must compose correctly.
TEST(GradChainTest, ComposedExpression) {
  ExpectGradients(
      {RandomHost({2, 3}, NextSeed(), 0.5, 1.5), RandomHost({3}, NextSeed(), -1, 1)},
      [](const std::vector<Tensor>& in) {
        Tensor a = in[0], b = in[1];
        return (a.Log() * b.Sigmoid() + a.Sqrt().Sin()).Tanh() / (b.Exp() + 1.0) - a * a * b;
      },
      [](const Inputs& in) {
        return Zip(in[0], in[1], [](double a, double b) {
          return std::tanh(std::log(a) * Sigmoid(b) + std::sin(std::sqrt(a))) / (std::exp(b) + 1) - a * a * b;
        });
      });
}

// Float -> float casts pass the gradient through (cast back to the source dtype); the
// gradient of a float16 leaf is float16.
TEST(GradCastTest, Float32ThroughFloat16) {
  HostArray x = RandomHost({3, 4}, NextSeed(), -2, 2);
  // The gradient passes through float16 too (cast back in the backward), so it is rounded.
  ExpectGradient(
      x, [](const Tensor& t) { return t.Cast(DType::kFloat16).Cast(DType::kFloat32).Mul(3.0); },
      [](const HostArray& h) { return Map(h, [](double v) { return 3 * v; }); }, {2e-3, 2e-3});
}

TEST(GradCastTest, Float16LeafGetsFloat16Gradient) {
  HostArray x = Quantize(RandomHost({5}, NextSeed(), -1, 1), DType::kFloat16);
  Tensor t = ToTensor(x, DType::kFloat16);
  t.RequiresGrad();
  ASSERT_TRUE(t.Cast(DType::kFloat32).Exp().Sum().Backward().ok());
  Tensor g = t.grad();
  ASSERT_TRUE(g.node() != nullptr);
  EXPECT_EQ(g.dtype(), DType::kFloat16);
  ExpectClose(g, Map(x, [](double v) { return std::exp(v); }), 2e-3, 2e-3);
}

// A cast to an integer type is not differentiable: the leaf gets zeros.
TEST(GradCastTest, IntegerCastBlocksGradient) {
  Tensor x = ToTensor(RandomHost({4}, NextSeed(), 1, 5));
  x.RequiresGrad();
  Tensor y = x.Cast(DType::kInt32).Cast(DType::kFloat32).Mul(x.Detach());
  auto g = Gradients(y.Sum(), {x});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Values((*g)[0]), std::vector<double>(4, 0.0));
}

// where(c, a, b): the gradient goes to a where c holds and to b elsewhere (with
// broadcasting of all three); the condition gets none.
TEST(GradWhereTest, BothBranchesBroadcast) {
  HostArray cond{{3, 1}, {1, 0, 1}};
  ExpectGradients(
      {RandomHost({3, 4}), RandomHost({4})},
      [&](const std::vector<Tensor>& in) { return Tensor::Where(ToTensor(cond, DType::kBool), in[0], in[1]); },
      [&](const Inputs& in) { return Where(cond, in[0], in[1]); });
}

TEST(GradWhereTest, ConditionGetsNoGradient) {
  HostArray c = RandomAwayFromZero({6}, 0.5, 2), a = RandomHost({6}), b = RandomHost({6});
  Tensor tc = ToTensor(c), ta = ToTensor(a), tb = ToTensor(b);
  for (Tensor* t : {&tc, &ta, &tb}) t->RequiresGrad();
  ASSERT_TRUE(Tensor::Where(tc.Gt(0.0), ta * tc, tb).Sum().Backward().ok());
  // d/dc of where(c > 0, a*c, b) is a where c > 0 (through the branch), never through the
  // condition.
  HostArray want_c = Generate({6}, [&](const Index& i) { return c.At(i) > 0 ? a.At(i) : 0.0; });
  HostArray want_a = Generate({6}, [&](const Index& i) { return c.At(i) > 0 ? c.At(i) : 0.0; });
  HostArray want_b = Generate({6}, [&](const Index& i) { return c.At(i) > 0 ? 0.0 : 1.0; });
  ExpectClose(tc.grad(), want_c);
  ExpectClose(ta.grad(), want_a);
  ExpectClose(tb.grad(), want_b);
}

}  // namespace
}  // namespace petabox
