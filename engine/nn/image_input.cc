#include "engine/nn/image_input.h"

#include <utility>

namespace petabox::nn {

ImageInput::ImageInput(std::unique_ptr<Module> model, std::array<float, 3> mean, std::array<float, 3> std)
    : model_(std::move(model)) {
  mean_ = Tensor::FromVector({mean[0], mean[1], mean[2]}, {3});
  inv_std_ = Tensor::FromVector({1.0f / std[0], 1.0f / std[1], 1.0f / std[2]}, {3});
  RegisterBuffer("mean", &mean_);
  RegisterBuffer("inv_std", &inv_std_);
  RegisterModule("model", model_.get());
}

Tensor ImageInput::Forward(const Tensor& x) {
  if (x.ndim() != 4 || x.shape()[3] != 3) {
    return Tensor::Error(InvalidArgument("ImageInput: expects images (N, H, W, 3), got " + ShapeToString(x.shape())));
  }
  // Channels last, so the (3,) statistics broadcast over the last axis.
  Tensor normalized = x.Cast(DType::kFloat32).Sub(mean_).Mul(inv_std_);
  return model_->Forward(normalized.Permute({0, 3, 1, 2}));
}

}  // namespace petabox::nn
