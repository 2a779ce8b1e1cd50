// Autocast: which ops run in the 16-bit type and which in float32 while a guard is alive,
// their values against naive references on the host, and the gradients of the casts that
// autocast inserts against finite differences (they must reach float32 leaves as float32).
#include "engine/autocast.h"

#include <gtest/gtest.h>

#include "tests/engine/autograd/grad_check.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using testref::HostArray;

class AutocastTest : public ::testing::TestWithParam<DType> {};

TEST_P(AutocastTest, MatmulAndConvRunIn16BitReductionsAndSoftmaxInFloat32) {
  const DType half = GetParam();
  Tensor a = testref::ToTensor(testref::RandomHost({3, 5}));
  Tensor b = testref::ToTensor(testref::RandomHost({5, 4}));
  Tensor x = testref::ToTensor(testref::RandomHost({2, 3, 6, 6}));
  Tensor w = testref::ToTensor(testref::RandomHost({4, 3, 3, 3}));
  Tensor bias = testref::ToTensor(testref::RandomHost({4}));
  Tensor h = a.Cast(half);
  {
    AutocastGuard guard(half);
    ASSERT_EQ(AutocastGuard::Active(), half);
    EXPECT_EQ(a.Matmul(b).dtype(), half);
    EXPECT_EQ(x.Conv2d(w, bias).dtype(), half);
    EXPECT_EQ(x.Conv2d(w).dtype(), half);
    EXPECT_EQ(h.Softmax().dtype(), DType::kFloat32);
    EXPECT_EQ(h.LogSoftmax().dtype(), DType::kFloat32);
    EXPECT_EQ(h.Mean({0}).dtype(), DType::kFloat32);
    EXPECT_EQ(h.Var({0}).dtype(), DType::kFloat32);
    EXPECT_EQ(h.Add(1.0).dtype(), half);  // elementwise ops keep their type
    {
      AutocastGuard off(DType::kFloat32);  // nested: float32 turns it off
      EXPECT_FALSE(AutocastGuard::Active().has_value());
      EXPECT_EQ(a.Matmul(b).dtype(), DType::kFloat32);
    }
    EXPECT_EQ(AutocastGuard::Active(), half);
  }
  EXPECT_FALSE(AutocastGuard::Active().has_value());
  EXPECT_EQ(a.Matmul(b).dtype(), DType::kFloat32);
  EXPECT_EQ(h.Softmax().dtype(), half);
}

// The product takes the operands rounded to the 16-bit type and sums them in float32; the
// result is rounded once, to the 16-bit type.
TEST_P(AutocastTest, MatmulValuesAreThoseOfRoundedOperandsSummedInFloat32) {
  const DType half = GetParam();
  HostArray ha = testref::RandomHost({7, 33}), hb = testref::RandomHost({33, 9});
  Tensor got;
  {
    AutocastGuard guard(half);
    got = testref::ToTensor(ha).Matmul(testref::ToTensor(hb));
  }
  HostArray want = testref::Quantize(testref::Matmul(testref::Quantize(ha, half), testref::Quantize(hb, half)), half);
  const double rel = half == DType::kBFloat16 ? 1.0 / 128 : 1.0 / 1024;  // one rounding of the result
  testref::ExpectClose(got.Cast(DType::kFloat32), want, 1e-3, rel);
}

// Also with the CPU's packed layouts (im2col windows, output channels innermost for 32).
TEST_P(AutocastTest, ConvValuesAreThoseOfRoundedOperandsSummedInFloat32) {
  const DType half = GetParam();
  HostArray hx = testref::RandomHost({2, 3, 9, 9}), hw = testref::RandomHost({32, 3, 5, 5}, -0.5, 0.5);
  HostArray hb = testref::RandomHost({32});
  Tensor got;
  {
    AutocastGuard guard(half);
    got = testref::ToTensor(hx).Conv2d(testref::ToTensor(hw), testref::ToTensor(hb), {1, 1}, {2, 2});
  }
  ASSERT_EQ(got.dtype(), half);
  testref::Conv2dParams params;
  params.pad_h = params.pad_w = 2;
  HostArray qb = testref::Quantize(hb, half);
  HostArray want = testref::Quantize(
      testref::Conv2d(testref::Quantize(hx, half), testref::Quantize(hw, half), &qb, params), half);
  const double rel = half == DType::kBFloat16 ? 1.0 / 128 : 1.0 / 1024;
  testref::ExpectClose(got.Cast(DType::kFloat32), want, 2e-2, rel);
}

// The gradient of x -> cast16(x)^2 is the straight-through 2x at the float32 leaf. Inputs
// are random values the 16-bit type holds exactly, so the rounding cast is the identity on
// them and the host's finite differences of x^2 are the reference.
TEST_P(AutocastTest, CastBackwardMatchesFiniteDifferences) {
  const DType half = GetParam();
  HostArray x = testref::Quantize(gradtest::DistinctHost({4, 5}, -2, 2), half);
  const double tol = half == DType::kBFloat16 ? 1e-2 : 2e-3;  // the gradient passes through 16-bit storage
  gradtest::ExpectGradient(
      x, [&](const Tensor& t) { Tensor c = t.Cast(half).Contiguous(); return c.Mul(c).Cast(DType::kFloat32); },
      [](const HostArray& a) { return testref::Map(a, [](double v) { return v * v; }); }, {tol, tol});
}

// Max pooling of a 16-bit activation (conv -> relu -> pool under autocast): the gradient
// goes to each window's maximum. The inputs are not 16-bit values, so the pooled maximum
// (stored, rounded) and the input it is compared with in the backward pass must be rounded
// alike. Values are spaced wider than the 16-bit resolution: no ties after rounding.
TEST_P(AutocastTest, MaxPoolOfA16BitTensorBackwardMatchesFiniteDifferences) {
  const DType half = GetParam();
  HostArray x = gradtest::DistinctHost({1, 2, 4, 4}, -2, 2);
  gradtest::ExpectGradient(
      x, [&](const Tensor& t) { return t.Cast(half).MaxPool2d({2, 2}).Cast(DType::kFloat32); },
      [](const HostArray& a) { return testref::Pool2d(a, true, {2, 2}, {2, 2}, {0, 0}); }, {2e-2, 2e-2});
}

TEST_P(AutocastTest, MatmulUnderAutocastGradientsMatchFiniteDifferences) {
  const DType half = GetParam();
  HostArray a = testref::Quantize(testref::RandomHost({3, 6}), half);
  HostArray b = testref::Quantize(testref::RandomHost({6, 4}), half);
  const double tol = half == DType::kBFloat16 ? 2e-2 : 3e-3;
  gradtest::ExpectGradients(
      {a, b},
      [&](const std::vector<Tensor>& in) {
        AutocastGuard guard(half);
        return in[0].Matmul(in[1]);
      },
      [](const std::vector<HostArray>& in) { return testref::Matmul(in[0], in[1]); }, {tol, tol});
}

INSTANTIATE_TEST_SUITE_P(Autocast, AutocastTest, ::testing::Values(DType::kBFloat16, DType::kFloat16),
                         [](const ::testing::TestParamInfo<DType>& info) { return std::string(Name(info.param)); });

}  // namespace
}  // namespace petabox
