// Conformance of the elementwise frontend ops against the naive host reference: every op on
// fresh random inputs, contiguous and non-contiguous, broadcasting, size-1 and odd sizes.
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

// ---------------------------------------------------------------- input layouts

// How an op's input is laid out: a random base array, and the same view applied to the
// Tensor and to the reference.
struct Layout {
  const char* name;
  Shape base;
  std::function<Tensor(const Tensor&)> view;
  std::function<HostArray(const HostArray&)> ref;
};

const Layout kLayouts[] = {
    {"Size1", {1}, [](const Tensor& t) { return t; }, [](const HostArray& a) { return a; }},
    {"Odd3x17", {3, 17}, [](const Tensor& t) { return t; }, [](const HostArray& a) { return a; }},
    // Every other row of a (7, 5), then transposed: a strided, permuted view (5, 4).
    {"SlicedTransposed",
     {7, 5},
     [](const Tensor& t) { return t.Slice(0, 0, 7, 2).Transpose(); },
     [](const HostArray& a) { return Transpose(Slice(a, 0, 0, 7, 2)); }},
    // Padded with a nonzero value (inside every op's domain) and flipped: (4, 7).
    {"PaddedFlipped",
     {3, 5},
     [](const Tensor& t) { return t.Pad({{1, 0}, {0, 2}}, 0.5).Flip({1}); },
     [](const HostArray& a) { return Flip(Pad(a, {{1, 0}, {0, 2}}, 0.5), {1}); }},
};

// ---------------------------------------------------------------- unary ops

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> ref;
  double lo, hi;  // input domain
  double atol = 1e-5, rtol = 1e-4;
};

const UnaryCase kUnary[] = {
    {"Neg", [](const Tensor& t) { return t.Neg(); }, [](double x) { return -x; }, -3, 3},
    {"OperatorNeg", [](const Tensor& t) { return -t; }, [](double x) { return -x; }, -3, 3},
    {"Exp", [](const Tensor& t) { return t.Exp(); }, [](double x) { return std::exp(x); }, -3, 3},
    {"Log", [](const Tensor& t) { return t.Log(); }, [](double x) { return std::log(x); }, 0.05, 4},
    {"Exp2", [](const Tensor& t) { return t.Exp2(); }, [](double x) { return std::exp2(x); }, -3, 3},
    {"Log2", [](const Tensor& t) { return t.Log2(); }, [](double x) { return std::log2(x); }, 0.05, 4},
    {"Sqrt", [](const Tensor& t) { return t.Sqrt(); }, [](double x) { return std::sqrt(x); }, 0, 4},
    {"Rsqrt", [](const Tensor& t) { return t.Rsqrt(); }, [](double x) { return 1 / std::sqrt(x); }, 0.1, 4},
    {"Reciprocal", [](const Tensor& t) { return t.Reciprocal(); }, [](double x) { return 1 / x; }, 0.2, 3},
    {"Abs", [](const Tensor& t) { return t.Abs(); }, [](double x) { return std::fabs(x); }, -3, 3},
    {"Sin", [](const Tensor& t) { return t.Sin(); }, [](double x) { return std::sin(x); }, -4, 4, 2e-5},
    {"Cos", [](const Tensor& t) { return t.Cos(); }, [](double x) { return std::cos(x); }, -4, 4, 2e-5},
    {"Relu", [](const Tensor& t) { return t.Relu(); }, [](double x) { return x > 0 ? x : 0; }, -3, 3},
    {"Sigmoid", [](const Tensor& t) { return t.Sigmoid(); }, Sigmoid, -6, 6},
    {"Tanh", [](const Tensor& t) { return t.Tanh(); }, [](double x) { return std::tanh(x); }, -4, 4},
    {"Gelu", [](const Tensor& t) { return t.Gelu(); }, GeluTanh, -4, 4},
};

class UnaryTest : public ::testing::TestWithParam<std::tuple<UnaryCase, Layout>> {};

TEST_P(UnaryTest, MatchesReference) {
  const auto& [op, layout] = GetParam();
  HostArray base = RandomHost(layout.base, op.lo, op.hi);
  Tensor out = op.op(layout.view(ToTensor(base)));
  EXPECT_EQ(out.dtype(), DType::kFloat32);
  ExpectClose(out, Map(layout.ref(base), op.ref), op.atol, op.rtol);
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryTest, ::testing::Combine(::testing::ValuesIn(kUnary), ::testing::ValuesIn(kLayouts)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
                         });

// ---------------------------------------------------------------- binary ops

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<double(double, double)> ref;
  // Generates the right operand (the left one is uniform in [-2, 2) unless positive_lhs).
  bool positive_lhs = false;
  bool away_from_zero_rhs = false;
  double atol = 1e-5, rtol = 1e-4;
};

const BinaryCase kBinary[] = {
    {"Add", [](const Tensor& a, const Tensor& b) { return a + b; }, [](double a, double b) { return a + b; }},
    {"Sub", [](const Tensor& a, const Tensor& b) { return a - b; }, [](double a, double b) { return a - b; }},
    {"Mul", [](const Tensor& a, const Tensor& b) { return a * b; }, [](double a, double b) { return a * b; }},
    {"Div", [](const Tensor& a, const Tensor& b) { return a / b; }, [](double a, double b) { return a / b; },
     false, true},
    {"Pow", [](const Tensor& a, const Tensor& b) { return a.Pow(b); },
     [](double a, double b) { return std::pow(a, b); }, true, false, 1e-5, 2e-4},
    {"Maximum", [](const Tensor& a, const Tensor& b) { return a.Maximum(b); },
     [](double a, double b) { return std::max(a, b); }},
    {"Minimum", [](const Tensor& a, const Tensor& b) { return a.Minimum(b); },
     [](double a, double b) { return std::min(a, b); }},
};

// Shapes (and views) of the two operands.
struct BinaryLayout {
  const char* name;
  Shape a, b;
  std::function<Tensor(const Tensor&)> view_a = [](const Tensor& t) { return t; };
  std::function<HostArray(const HostArray&)> ref_a = [](const HostArray& h) { return h; };
  std::function<Tensor(const Tensor&)> view_b = [](const Tensor& t) { return t; };
  std::function<HostArray(const HostArray&)> ref_b = [](const HostArray& h) { return h; };
};

const BinaryLayout kBinaryLayouts[] = {
    {"Same17", {17}, {17}},
    {"Broadcast3x1x5With4x1", {3, 1, 5}, {4, 1}},
    {"Size1RankGrowth", {1}, {1, 1}},
    // a: transposed (5, 3) -> (3, 5); b: columns 9, 7, 5, 3, 1 of a (3, 10).
    {"NonContiguous", {5, 3}, {3, 10},
     [](const Tensor& t) { return t.Transpose(); }, [](const HostArray& h) { return Transpose(h); },
     [](const Tensor& t) { return t.Slice(1, 9, 0, -2); }, [](const HostArray& h) { return Slice(h, 1, 9, 0, -2); }},
};

class BinaryTest : public ::testing::TestWithParam<std::tuple<BinaryCase, BinaryLayout>> {};

TEST_P(BinaryTest, MatchesReference) {
  const auto& [op, layout] = GetParam();
  HostArray a = op.positive_lhs ? RandomHost(layout.a, 0.25, 3) : RandomHost(layout.a);
  HostArray b = op.away_from_zero_rhs ? RandomAwayFromZero(layout.b) : RandomHost(layout.b);
  Tensor out = op.op(layout.view_a(ToTensor(a)), layout.view_b(ToTensor(b)));
  EXPECT_EQ(out.dtype(), DType::kFloat32);
  ExpectClose(out, Zip(layout.ref_a(a), layout.ref_b(b), op.ref), op.atol, op.rtol);
}

INSTANTIATE_TEST_SUITE_P(Ops, BinaryTest,
                         ::testing::Combine(::testing::ValuesIn(kBinary), ::testing::ValuesIn(kBinaryLayouts)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
                         });

TEST(ScalarOperandTest, TensorWithDouble) {
  HostArray a = RandomHost({3, 7}, 0.25, 3);
  Tensor t = ToTensor(a);
  ExpectClose(t + 1.5, Map(a, [](double x) { return x + 1.5; }));
  ExpectClose(t - 0.75, Map(a, [](double x) { return x - 0.75; }));
  ExpectClose(t * -3.0, Map(a, [](double x) { return x * -3.0; }));
  ExpectClose(t / 4.0, Map(a, [](double x) { return x / 4.0; }));
  ExpectClose(t.Pow(0.5), Map(a, [](double x) { return std::sqrt(x); }));
}

// Integer exponents of negative bases are defined (PyTorch: (-2)**3 == -8).
TEST(ScalarOperandTest, PowIntegerExponentOfNegativeBase) {
  HostArray a = RandomHost({9}, -2.0, 2.0);
  ExpectClose(ToTensor(a).Pow(2.0), Map(a, [](double x) { return x * x; }), 1e-5, 2e-4);
  ExpectClose(ToTensor(a).Pow(3.0), Map(a, [](double x) { return x * x * x; }), 1e-5, 2e-4);
}

// ---------------------------------------------------------------- comparisons

struct CompareCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<bool(double, double)> ref;
};

const CompareCase kCompare[] = {
    {"Lt", [](const Tensor& a, const Tensor& b) { return a.Lt(b); }, [](double a, double b) { return a < b; }},
    {"Gt", [](const Tensor& a, const Tensor& b) { return a.Gt(b); }, [](double a, double b) { return a > b; }},
    {"Le", [](const Tensor& a, const Tensor& b) { return a.Le(b); }, [](double a, double b) { return a <= b; }},
    {"Ge", [](const Tensor& a, const Tensor& b) { return a.Ge(b); }, [](double a, double b) { return a >= b; }},
    {"Eq", [](const Tensor& a, const Tensor& b) { return a.Eq(b); }, [](double a, double b) { return a == b; }},
    {"Ne", [](const Tensor& a, const Tensor& b) { return a.Ne(b); }, [](double a, double b) { return a != b; }},
};

class CompareTest : public ::testing::TestWithParam<std::tuple<CompareCase, bool>> {};

// Small integer values so that ties (the interesting case for Le/Ge/Eq/Ne) are common.
TEST_P(CompareTest, MatchesReference) {
  const auto& [op, broadcast] = GetParam();
  Shape sa = broadcast ? Shape{3, 1} : Shape{3, 7};
  Shape sb = broadcast ? Shape{1, 7} : Shape{3, 7};
  HostArray a = RandomIntHost(sa, -2, 2), b = RandomIntHost(sb, -2, 2);
  Tensor out = op.op(ToTensor(a), ToTensor(b));
  EXPECT_EQ(out.dtype(), DType::kBool);
  ExpectClose(out, Zip(a, b, [&](double x, double y) { return op.ref(x, y) ? 1.0 : 0.0; }), 0, 0);
}

INSTANTIATE_TEST_SUITE_P(Ops, CompareTest, ::testing::Combine(::testing::ValuesIn(kCompare), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) ? "_Broadcast" : "_Same");
                         });

TEST(CompareScalarTest, LtGtEqWithDouble) {
  HostArray a = RandomIntHost({11}, -2, 2);
  Tensor t = ToTensor(a);
  ExpectClose(t.Lt(0.0), Map(a, [](double x) { return x < 0 ? 1.0 : 0.0; }), 0, 0);
  ExpectClose(t.Gt(1.0), Map(a, [](double x) { return x > 1 ? 1.0 : 0.0; }), 0, 0);
  ExpectClose(t.Eq(-1.0), Map(a, [](double x) { return x == -1 ? 1.0 : 0.0; }), 0, 0);
}

TEST(CompareScalarTest, Int32Operands) {
  HostArray a = RandomIntHost({2, 5}, -3, 3), b = RandomIntHost({5}, -3, 3);
  Tensor out = ToTensor(a, DType::kInt32).Lt(ToTensor(b, DType::kInt32));
  EXPECT_EQ(out.dtype(), DType::kBool);
  ExpectClose(out, Zip(a, b, [](double x, double y) { return x < y ? 1.0 : 0.0; }), 0, 0);
}

TEST(LogicalNotTest, OfComparison) {
  HostArray a = RandomHost({3, 5});
  Tensor out = ToTensor(a).Lt(0.0).LogicalNot();
  EXPECT_EQ(out.dtype(), DType::kBool);
  ExpectClose(out, Map(a, [](double x) { return x < 0 ? 0.0 : 1.0; }), 0, 0);
}

// ---------------------------------------------------------------- where, clip

TEST(WhereTest, BroadcastsAllThree) {
  HostArray c = RandomHost({3, 1, 5}), a = RandomHost({4, 1}), b = RandomHost({5});
  HostArray cond = Map(c, [](double x) { return x > 0 ? 1.0 : 0.0; });
  Tensor out = Tensor::Where(ToTensor(c).Gt(0.0), ToTensor(a), ToTensor(b));
  ExpectClose(out, Where(cond, a, b));
}

TEST(WhereTest, MemberFormWithBoolTensorAndViews) {
  HostArray c = RandomIntHost({4, 3}, 0, 1), a = RandomHost({3, 4}), b = RandomHost({4, 3});
  Tensor cond = ToTensor(c, DType::kBool);
  Tensor out = cond.Where(ToTensor(a).Transpose(), ToTensor(b).Flip({0}));
  ExpectClose(out, Where(c, Transpose(a), Flip(b, {0})));
}

TEST(ClipTest, ClampsToRange) {
  HostArray a = RandomHost({3, 17});
  ExpectClose(ToTensor(a).Clip(-0.5, 0.75), Map(a, [](double x) { return std::clamp(x, -0.5, 0.75); }));
}

// ---------------------------------------------------------------- cast and promotion

struct CastCase {
  const char* name;
  DType from, to;
  double lo, hi;
  bool integer_inputs;
};

const CastCase kCasts[] = {
    {"Float32ToInt32", DType::kFloat32, DType::kInt32, -5, 5, false},
    {"Float32ToBool", DType::kFloat32, DType::kBool, -2, 2, true},
    {"BoolToFloat32", DType::kBool, DType::kFloat32, 0, 1, true},
    {"Int32ToFloat32", DType::kInt32, DType::kFloat32, -100, 100, true},
    {"Int32ToInt64", DType::kInt32, DType::kInt64, -100, 100, true},
    {"Float32ToFloat16", DType::kFloat32, DType::kFloat16, -3, 3, false},
    {"Float32ToBFloat16", DType::kFloat32, DType::kBFloat16, -3, 3, false},
    {"Float16ToFloat32", DType::kFloat16, DType::kFloat32, -3, 3, false},
    {"UInt8ToFloat32", DType::kUInt8, DType::kFloat32, 0, 255, true},
};

class CastTest : public ::testing::TestWithParam<CastCase> {};

// Float -> int truncates toward zero (C, PyTorch); float -> bool is x != 0; float ->
// float16/bfloat16 rounds to nearest even. The reference quantizes independently.
TEST_P(CastTest, MatchesReference) {
  const CastCase& c = GetParam();
  HostArray a = c.integer_inputs ? RandomIntHost({3, 7}, static_cast<int64_t>(c.lo), static_cast<int64_t>(c.hi))
                                 : RandomHost({3, 7}, c.lo, c.hi);
  HostArray stored = Quantize(a, c.from);
  Tensor out = ToTensor(a, c.from).Cast(c.to);
  EXPECT_EQ(out.dtype(), c.to);
  ExpectClose(out, Quantize(stored, c.to), 0, 0);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CastTest, ::testing::ValuesIn(kCasts),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PromotionTest, ResultDtypes) {
  Tensor f32 = ToTensor(RandomHost({3}));
  Tensor i32 = ToTensor(RandomIntHost({3}, -5, 5), DType::kInt32);
  Tensor f16 = ToTensor(RandomHost({3}), DType::kFloat16);
  Tensor bf16 = ToTensor(RandomHost({3}), DType::kBFloat16);
  EXPECT_EQ((i32 + f32).dtype(), DType::kFloat32);
  EXPECT_EQ((i32 + i32).dtype(), DType::kInt32);
  EXPECT_EQ((f16 + f32).dtype(), DType::kFloat32);
  EXPECT_EQ((f16 + bf16).dtype(), DType::kFloat32);
  EXPECT_EQ((f16 * f16).dtype(), DType::kFloat16);
  // An integral scalar keeps an int tensor's dtype; a fractional one makes it float32.
  EXPECT_EQ((i32 * 2.0).dtype(), DType::kInt32);
  EXPECT_EQ((i32 + 0.5).dtype(), DType::kFloat32);
}

TEST(PromotionTest, IntPlusFloatValues) {
  HostArray a = RandomIntHost({2, 5}, -50, 50), b = RandomHost({5});
  ExpectClose(ToTensor(a, DType::kInt32) + ToTensor(b), Zip(a, b, [](double x, double y) { return x + y; }));
}

TEST(PromotionTest, IntScalarArithmeticStaysExact) {
  HostArray a = RandomIntHost({7}, -1000, 1000);
  Tensor t = ToTensor(a, DType::kInt32) * 3.0 + 7.0;
  EXPECT_EQ(t.dtype(), DType::kInt32);
  ExpectClose(t, Map(a, [](double x) { return 3 * x + 7; }), 0, 0);
  Tensor h = ToTensor(a, DType::kInt32) + 0.5;
  ExpectClose(h, Map(a, [](double x) { return x + 0.5; }), 0, 0);
}

// ---------------------------------------------------------------- 16-bit floats

struct HalfCase {
  const char* name;
  DType dtype;
  double tol;
};

class HalfTest : public ::testing::TestWithParam<HalfCase> {};

// Inputs are quantized to the dtype first, so the reference sees what the engine stores; the
// tolerance covers rounding of the result (and of intermediates, for composed ops).
TEST_P(HalfTest, AddMulExpGelu) {
  const HalfCase& c = GetParam();
  HostArray a = Quantize(RandomHost({3, 17}), c.dtype), b = Quantize(RandomHost({17}), c.dtype);
  Tensor ta = ToTensor(a, c.dtype), tb = ToTensor(b, c.dtype);
  Tensor sum = ta + tb;
  EXPECT_EQ(sum.dtype(), c.dtype);
  ExpectClose(sum, Zip(a, b, [](double x, double y) { return x + y; }), c.tol, c.tol);
  ExpectClose(ta * tb, Zip(a, b, [](double x, double y) { return x * y; }), c.tol, c.tol);
  ExpectClose(ta.Exp(), Map(a, [](double x) { return std::exp(x); }), c.tol, c.tol);
  ExpectClose(ta.Gelu(), Map(a, GeluTanh), 2 * c.tol, 2 * c.tol);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, HalfTest,
                         ::testing::Values(HalfCase{"Float16", DType::kFloat16, 4e-3},
                                           HalfCase{"BFloat16", DType::kBFloat16, 2e-2}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- chains

TEST(ElementwiseChainTest, MulAddThenUnaryOnBroadcastViews) {
  HostArray a = RandomHost({4, 5}), b = RandomHost({5, 4}), c = RandomHost({5});
  Tensor out = (ToTensor(a) * ToTensor(b).Transpose() + ToTensor(c)).Tanh() - 0.25;
  HostArray ref = Zip(Zip(a, Transpose(b), [](double x, double y) { return x * y; }), c,
                      [](double x, double y) { return std::tanh(x + y) - 0.25; });
  ExpectClose(out, ref);
}

TEST(ElementwiseChainTest, SameInputUsedTwice) {
  HostArray a = RandomHost({33});
  Tensor t = ToTensor(a);
  ExpectClose(t * t + t.Exp(), Map(a, [](double x) { return x * x + std::exp(x); }));
}

TEST(ElementwiseChainTest, OnRealizedThenViewedTensor) {
  HostArray a = RandomHost({3, 4}), b = RandomHost({3, 4});
  Tensor s = ToTensor(a) + ToTensor(b);
  ASSERT_TRUE(s.Realize().ok());
  HostArray sref = Zip(a, b, [](double x, double y) { return x + y; });
  Tensor out = s.Transpose().Flip({0}) * 2.0;
  ExpectClose(out, Map(Flip(Transpose(sref), {0}), [](double x) { return 2 * x; }));
  // The realized tensor itself still reads back unchanged.
  ExpectClose(s, sref);
}

}  // namespace
}  // namespace petabox
