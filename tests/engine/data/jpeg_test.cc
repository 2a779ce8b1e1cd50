// JPEG through libjpeg-turbo: encode -> decode round trips at full and reduced (DCT)
// scale, and damaged or foreign data refused with InvalidArgument. In a build without
// libjpeg-turbo only the "built without" error is checked; the rest skips saying so.
#include "engine/data/jpeg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "engine/random.h"

namespace petabox::data {
namespace {

constexpr char kNoJpeg[] = "built without libjpeg-turbo";

// A smooth RGB image (gradients plus a little noise) that JPEG keeps close.
Image SmoothImage(int width, int height, uint64_t seed) {
  Rng rng(seed);
  Image image{width, height, 3, {}};
  const float phase = rng.Uniform() * 6.28f;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float base = 128 + 90 * std::sin(phase + x * 0.05f) * std::cos(y * 0.04f);
      for (int c = 0; c < 3; ++c) {
        image.pixels.push_back(static_cast<uint8_t>(std::clamp(base + 30 * c - 30 + rng.Uniform() * 4, 0.0f, 255.0f)));
      }
    }
  }
  return image;
}

double MeanAbsDiff(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / a.pixels.size();
}

// The mean of each factor x factor block: the reference for a 1/factor decode.
Image BoxDownscale(const Image& src, int factor) {
  Image out{src.width / factor, src.height / factor, 3, {}};
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < factor; ++dy)
          for (int dx = 0; dx < factor; ++dx) sum += src.At(y * factor + dy, x * factor + dx, c);
        out.pixels.push_back(static_cast<uint8_t>(sum / (factor * factor)));
      }
  return out;
}

TEST(JpegTest, WithoutLibjpegTurboEveryCallSaysSo) {
  if (HaveJpeg()) GTEST_SKIP() << "this build has libjpeg-turbo; the 'built without' path is not compiled";
  StatusOr<Image> decoded = DecodeJpeg(std::vector<uint8_t>{0xff, 0xd8});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(decoded.status().message().find(kNoJpeg), std::string::npos) << decoded.status().message();
}

TEST(JpegTest, RoundTripAtFullSize) {
  if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
  const Image image = SmoothImage(97, 61, 1);
  StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(image, 95);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  StatusOr<JpegSize> size = ReadJpegSize(*bytes);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(size->width, 97);
  EXPECT_EQ(size->height, 61);
  StatusOr<Image> decoded = DecodeJpeg(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  ASSERT_EQ(decoded->width, 97);
  ASSERT_EQ(decoded->height, 61);
  EXPECT_LT(MeanAbsDiff(image, *decoded), 3.0);
}

TEST(JpegTest, DecodesAtTheSmallestScaleThatKeepsTheRequestedSize) {
  if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
  EXPECT_EQ(ScaledJpegSize({256, 192}, 100, 80).width, 128);   // 1/2
  EXPECT_EQ(ScaledJpegSize({256, 192}, 100, 80).height, 96);
  EXPECT_EQ(ScaledJpegSize({256, 192}, 20, 10).width, 32);     // 1/8
  EXPECT_EQ(ScaledJpegSize({256, 192}, 250, 10).width, 256);   // only full size keeps 250
  EXPECT_EQ(ScaledJpegSize({256, 192}, 0, 0).width, 32);
  EXPECT_EQ(ScaledJpegSize({256, 192}, 300, 300).width, 256);  // never upscaled

  const Image image = SmoothImage(256, 192, 2);
  StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(image, 95);
  ASSERT_TRUE(bytes.ok());
  StatusOr<Image> half = DecodeJpeg(*bytes, 100, 80);
  ASSERT_TRUE(half.ok()) << half.status().message();
  ASSERT_EQ(half->width, 128);
  ASSERT_EQ(half->height, 96);
  EXPECT_LT(MeanAbsDiff(BoxDownscale(image, 2), *half), 3.0);
}

TEST(JpegTest, GreyImagesDecodeToRgb) {
  if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
  Image grey{16, 16, 1, std::vector<uint8_t>(256)};
  for (int i = 0; i < 256; ++i) grey.pixels[i] = static_cast<uint8_t>(i % 16 * 16);
  StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(grey, 100);
  ASSERT_TRUE(bytes.ok());
  StatusOr<Image> decoded = DecodeJpeg(*bytes);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->channels, 3);
  for (int x = 0; x < 16; ++x) {
    EXPECT_NEAR(decoded->At(5, x, 0), x * 16, 3);
    EXPECT_EQ(decoded->At(5, x, 0), decoded->At(5, x, 2));
  }
}

TEST(JpegTest, TruncatedAndForeignDataAreInvalidArgument) {
  if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
  StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(SmoothImage(64, 64, 3), 90);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> truncated(bytes->begin(), bytes->begin() + bytes->size() / 2);
  StatusOr<Image> cut = DecodeJpeg(truncated);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);

  const std::string text = "this is a text file named like a JPEG\n";
  StatusOr<Image> foreign = DecodeJpeg(std::vector<uint8_t>(text.begin(), text.end()));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(foreign.status().message().find("not a JPEG"), std::string::npos) << foreign.status().message();
  EXPECT_FALSE(DecodeJpeg(std::vector<uint8_t>{}).ok());
}

TEST(JpegTest, EncodeRefusesMalformedImages) {
  if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
  EXPECT_EQ(EncodeJpeg(Image{0, 4, 3, {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJpeg(Image{2, 2, 4, std::vector<uint8_t>(16)}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJpeg(Image{2, 2, 3, std::vector<uint8_t>(11)}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeJpeg(Image{2, 2, 3, std::vector<uint8_t>(12)}, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox::data
