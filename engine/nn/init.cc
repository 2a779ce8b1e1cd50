#include "engine/nn/init.h"

#include <cmath>
#include <vector>

namespace petabox::nn {

Fans ComputeFans(const Shape& shape) {
  if (shape.size() < 2) return {};
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

Tensor UniformTensor(const Shape& shape, double bound, Rng& rng, const std::string& device) {
  std::vector<float> v(static_cast<size_t>(Product(shape)));
  for (float& x : v) x = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
  return Tensor::FromVector(v, shape, DType::kFloat32, device);
}

Tensor NormalTensor(const Shape& shape, double stddev, Rng& rng, const std::string& device) {
  std::vector<float> v(static_cast<size_t>(Product(shape)));
  for (float& x : v) x = static_cast<float>(rng.Normal() * stddev);
  return Tensor::FromVector(v, shape, DType::kFloat32, device);
}

Tensor InitWeight(const Shape& shape, Init init, Rng& rng, const std::string& device) {
  Fans fans = ComputeFans(shape);
  if (fans.in <= 0 || fans.out <= 0) {
    return Tensor::Error(
        InvalidArgument("init: weight shape " + ShapeToString(shape) + " needs >= 2 dims and no zero dimension"));
  }
  switch (init) {
    case Init::kDefault:
      return UniformTensor(shape, 1.0 / std::sqrt(static_cast<double>(fans.in)), rng, device);
    case Init::kKaimingNormalFanIn:
      return NormalTensor(shape, std::sqrt(2.0 / static_cast<double>(fans.in)), rng, device);
    case Init::kKaimingNormalFanOut:
      return NormalTensor(shape, std::sqrt(2.0 / static_cast<double>(fans.out)), rng, device);
  }
  return Tensor::Error(InvalidArgument("init: unknown Init value"));
}

Tensor InitBias(int64_t out, const Shape& weight_shape, Rng& rng, const std::string& device) {
  Fans fans = ComputeFans(weight_shape);
  double bound = fans.in > 0 ? 1.0 / std::sqrt(static_cast<double>(fans.in)) : 0.0;
  return UniformTensor({out}, bound, rng, device);
}

}  // namespace petabox::nn
