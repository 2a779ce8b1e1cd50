// The loader's image operations against independent references: bilinear resampling
// against a naive double-precision loop, crop boxes against torchvision's arithmetic done
// by hand, and RandomResizedCrop's boxes within its ranges.
#include "engine/data/image_ops.h"

#include <gtest/gtest.h>

#include <cmath>

namespace petabox::data {
namespace {

Image RandomImage(int width, int height, int channels, uint64_t seed) {
  Rng rng(seed);
  Image image{width, height, channels, {}};
  for (int i = 0; i < width * height * channels; ++i) image.pixels.push_back(static_cast<uint8_t>(rng.NextU64() % 256));
  return image;
}

// Bilinear sample of channel c at source position (sx, sy), written from the formula.
double NaiveSample(const Image& img, double sx, double sy, int c) {
  sx = std::min(std::max(sx, 0.0), img.width - 1.0);
  sy = std::min(std::max(sy, 0.0), img.height - 1.0);
  const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
  const int x1 = std::min(x0 + 1, img.width - 1), y1 = std::min(y0 + 1, img.height - 1);
  const double wx = sx - x0, wy = sy - y0;
  return (1 - wx) * (1 - wy) * img.At(y0, x0, c) + wx * (1 - wy) * img.At(y0, x1, c) +
         (1 - wx) * wy * img.At(y1, x0, c) + wx * wy * img.At(y1, x1, c);
}

void ExpectMatchesNaive(const Image& src, const CropBox& box, int ow, int oh, bool flip) {
  std::vector<uint8_t> out(static_cast<size_t>(ow) * oh * src.channels);
  ResizeCrop(src, box, ow, oh, flip, out.data());
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      const int sx_index = flip ? ow - 1 - x : x;
      const double sx = box.x + (sx_index + 0.5) * box.width / ow - 0.5;
      const double sy = box.y + (y + 0.5) * box.height / oh - 0.5;
      for (int c = 0; c < src.channels; ++c) {
        const double want = NaiveSample(src, sx, sy, c);
        ASSERT_NEAR(out[(static_cast<size_t>(y) * ow + x) * src.channels + c], want, 0.51 + 1e-3)
            << "at " << x << "," << y << " channel " << c;
      }
    }
  }
}

TEST(ImageOpsTest, ResizeCropMatchesANaiveBilinearLoop) {
  const Image src = RandomImage(53, 41, 3, 7);
  ExpectMatchesNaive(src, {0, 0, 53, 41}, 24, 24, false);          // downscale, aspect change
  ExpectMatchesNaive(src, {3, 5, 20, 17}, 64, 48, false);          // upscale a crop
  ExpectMatchesNaive(src, {10.25, 2.5, 30.5, 33.75}, 17, 19, true);  // fractional box, flipped
  ExpectMatchesNaive(RandomImage(9, 7, 1, 8), {0, 0, 9, 7}, 31, 3, false);
}

TEST(ImageOpsTest, ResizeCropOfTheWholeImageAtItsSizeIsTheImage) {
  const Image src = RandomImage(19, 11, 3, 9);
  std::vector<uint8_t> out(src.pixels.size()), flipped(src.pixels.size());
  ResizeCrop(src, {0, 0, 19, 11}, 19, 11, false, out.data());
  EXPECT_EQ(out, src.pixels);
  ResizeCrop(src, {0, 0, 19, 11}, 19, 11, true, flipped.data());
  for (int y = 0; y < 11; ++y)
    for (int x = 0; x < 19; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(flipped[(y * 19 + x) * 3 + c], src.At(y, 18 - x, c));
}

TEST(ImageOpsTest, CenterCropBoxFollowsTorchvisionResizeThenCenterCrop) {
  // 500x375 -> Resize(256): 341x256 (int(256 * 500 / 375)); CenterCrop(224): left
  // round(58.5) = 58 (half to even), top 16.
  const CropBox box = CenterCropBox(500, 375, 256, 224);
  EXPECT_DOUBLE_EQ(box.x, 58 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(box.y, 16 * 375.0 / 256);
  EXPECT_DOUBLE_EQ(box.width, 224 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(box.height, 224 * 375.0 / 256);
  // Portrait: the width is the short side.
  const CropBox tall = CenterCropBox(300, 600, 256, 224);
  EXPECT_DOUBLE_EQ(tall.width, 224 * 300.0 / 256);
  EXPECT_DOUBLE_EQ(tall.y, 144 * 600.0 / 512);  // (512 - 224) / 2
}

TEST(ImageOpsTest, RandomResizedCropBoxesStayInTheirRanges) {
  Rng rng(11);
  for (int i = 0; i < 2000; ++i) {
    const int w = 100 + static_cast<int>(rng.NextU64() % 600), h = 100 + static_cast<int>(rng.NextU64() % 600);
    const CropBox b = RandomResizedCropBox(w, h, rng);
    ASSERT_GE(b.x, 0);
    ASSERT_GE(b.y, 0);
    ASSERT_LE(b.x + b.width, w);
    ASSERT_LE(b.y + b.height, h);
    ASSERT_EQ(b.x, std::floor(b.x));
    const double fraction = b.width * b.height / (static_cast<double>(w) * h);
    const double ratio = b.width / b.height;
    // Rounding width and height to integers widens the ranges by up to ~1% a side here.
    ASSERT_GT(fraction, 0.08 * 0.97) << w << "x" << h;
    ASSERT_LE(fraction, 1.0);
    ASSERT_GT(ratio, 0.75 * 0.97);
    ASSERT_LT(ratio, 4.0 / 3 * 1.03);
  }
}

TEST(ImageOpsTest, RandomResizedCropFallsBackToTheCentreForExtremeShapes) {
  // No box of 8-100% of a 1000x10 image has an aspect ratio in [3/4, 4/3]: the fallback
  // keeps the full height and width round(10 * 4/3) = 13, centred.
  Rng rng(3);
  const CropBox b = RandomResizedCropBox(1000, 10, rng);
  EXPECT_EQ(b, (CropBox{493, 0, 13, 10}));
  const CropBox tall = RandomResizedCropBox(10, 1000, rng);
  EXPECT_EQ(tall, (CropBox{0, 493, 10, 13}));
}

TEST(ImageOpsTest, RandomResizedCropIsFixedByTheRngState) {
  Rng a(42), b(42);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(RandomResizedCropBox(300, 200, a), RandomResizedCropBox(300, 200, b));
}

}  // namespace
}  // namespace petabox::data
