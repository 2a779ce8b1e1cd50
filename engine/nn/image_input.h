// ImageInput: feeds a model images as the JPEG loader makes them (engine/data/jpeg_loader.h),
// uint8 (N, H, W, 3) RGB, normalising on the device inside the model's graph:
// float32 (N, 3, H, W) = (x - mean[c]) / std[c], then the wrapped model. The host ships
// a quarter of the bytes that float batches would take, and the cast, the normalisation
// and the layout change run as engine ops (fused into the first kernels where they can).
//
// The wrapped model is the child "model" (its state names gain the prefix "model.");
// mean and std are buffers, so they move to the model's device and go into checkpoints.
// Thread-compatible, as every Module.
#pragma once

#include <array>
#include <memory>

#include "engine/nn/module.h"

namespace petabox::nn {

// MLPerf ResNet-50's (torchvision's) ImageNet statistics, on the 0..255 scale.
inline constexpr std::array<float, 3> kImageNetMean = {0.485f * 255, 0.456f * 255, 0.406f * 255};
inline constexpr std::array<float, 3> kImageNetStd = {0.229f * 255, 0.224f * 255, 0.225f * 255};

class ImageInput : public Module {
 public:
  // Owns `model`, which takes float32 (N, 3, H, W).
  ImageInput(std::unique_ptr<Module> model, std::array<float, 3> mean = kImageNetMean,
             std::array<float, 3> std = kImageNetStd);

  // x: uint8 (N, H, W, 3) (float32 is accepted too). The wrapped model's output.
  Tensor Forward(const Tensor& x) override;
  Module& model() { return *model_; }

 private:
  std::unique_ptr<Module> model_;
  Tensor mean_;     // (3,)
  Tensor inv_std_;  // (3,): 1 / std
};

}  // namespace petabox::nn
