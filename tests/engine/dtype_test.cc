#include "engine/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace petabox {
namespace {

TEST(DTypeTest, PromotionFollowsTheLattice) {
  EXPECT_EQ(Promote(DType::kBool, DType::kUInt8), DType::kUInt8);
  EXPECT_EQ(Promote(DType::kInt32, DType::kInt64), DType::kInt64);
  EXPECT_EQ(Promote(DType::kInt64, DType::kFloat16), DType::kFloat16);
  EXPECT_EQ(Promote(DType::kFloat16, DType::kBFloat16), DType::kFloat32);
  EXPECT_EQ(Promote(DType::kBFloat16, DType::kFloat32), DType::kFloat32);
  EXPECT_EQ(Promote(DType::kBool, DType::kFloat32), DType::kFloat32);
}

TEST(DTypeTest, ParseNamesAndRejectUnknown) {
  EXPECT_EQ(*ParseDType("bf16"), DType::kBFloat16);
  EXPECT_EQ(*ParseDType("float32"), DType::kFloat32);
  auto bad = ParseDType("float7");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("float7"), std::string::npos);
}

TEST(DTypeTest, HalfRoundTripsAndRoundsToNearestEven) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-60000.0f, 60000.0f);
  for (int i = 0; i < 10000; ++i) {
    float f = dist(rng);
    float h = HalfToFloat(FloatToHalf(f));
    EXPECT_LE(std::fabs(h - f), std::fabs(f) * 0.000489f + 1e-7f) << f;
  }
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                     // overflow -> inf
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));    // smallest subnormal
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
}

TEST(DTypeTest, BFloat16KeepsTheFloatExponent) {
  EXPECT_NEAR(BFloat16ToFloat(FloatToBFloat16(1e30f)) / 1e30f, 1.0f, 0.005f);  // float32 range
  EXPECT_NEAR(BFloat16ToFloat(FloatToBFloat16(3.14159f)), 3.14159f, 0.01f);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(NAN))));
}

}  // namespace
}  // namespace petabox
