// ImageInput: uint8 NHWC images normalised in the graph give the wrapped model exactly
// what normalising on the host (a naive loop to float NCHW) gives it; gradients reach the
// wrapped model's parameters; a wrong layout is an error tensor.
#include "engine/nn/image_input.h"

#include <gtest/gtest.h>

#include "engine/nn/models.h"

namespace petabox::nn {
namespace {

std::unique_ptr<Module> Resnet8Rgb(uint64_t seed) {
  Rng rng(seed);
  StatusOr<std::unique_ptr<Module>> m = MakeModel("resnet8-rgb", rng);
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

TEST(ImageInputTest, MatchesHostNormalisationInNchw) {
  const int64_t n = 2, h = 12, w = 10;
  Rng rng(5);
  std::vector<uint8_t> pixels(n * h * w * 3);
  for (uint8_t& p : pixels) p = static_cast<uint8_t>(rng.NextU64() % 256);
  // Reference: (x - mean) / std per channel, transposed to NCHW, on the host.
  std::vector<float> nchw(pixels.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t c = 0; c < 3; ++c)
          nchw[((i * 3 + c) * h + y) * w + x] = (pixels[((i * h + y) * w + x) * 3 + c] - kImageNetMean[c]) / kImageNetStd[c];

  ImageInput wrapped(Resnet8Rgb(9));
  std::unique_ptr<Module> plain = Resnet8Rgb(9);
  wrapped.Eval();
  plain->Eval();
  StatusOr<std::vector<float>> got =
      wrapped.Forward(Tensor::FromData(pixels.data(), {n, h, w, 3}, DType::kUInt8)).ToFloats();
  StatusOr<std::vector<float>> want = plain->Forward(Tensor::FromVector(nchw, {n, 3, h, w})).ToFloats();
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_TRUE(want.ok()) << want.status().message();
  ASSERT_EQ(got->size(), static_cast<size_t>(n * 10));
  for (size_t i = 0; i < got->size(); ++i) EXPECT_NEAR((*got)[i], (*want)[i], 1e-4 + 1e-4 * std::abs((*want)[i]));
}

TEST(ImageInputTest, GradientsReachTheWrappedModel) {
  ImageInput wrapped(Resnet8Rgb(1));
  std::vector<uint8_t> pixels(2 * 8 * 8 * 3, 100);
  pixels[5] = 250;
  Tensor labels = Tensor::FromVector({1, 3}, {2}, DType::kInt32);
  Tensor loss = wrapped.TrainingLoss(Tensor::FromData(pixels.data(), {2, 8, 8, 3}, DType::kUInt8), labels, 0.0);
  ASSERT_TRUE(loss.Backward().ok());
  const NamedTensorPtrs params = wrapped.NamedParameters();
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params[0].first, "model.0.weight");
  StatusOr<std::vector<float>> grad = params[0].second->grad().ToFloats();
  ASSERT_TRUE(grad.ok()) << grad.status().message();
  double norm = 0;
  for (float g : *grad) norm += g * g;
  EXPECT_GT(norm, 0);
}

TEST(ImageInputTest, RefusesImagesThatAreNotChannelsLast) {
  ImageInput wrapped(Resnet8Rgb(1));
  Tensor out = wrapped.Forward(Tensor::Zeros({2, 3, 8, 8}, DType::kUInt8));
  EXPECT_FALSE(out.ToFloats().ok());
}

}  // namespace
}  // namespace petabox::nn
