// Parameter initialisation, matching PyTorch's formulas. Values are drawn on the host from
// an Rng (so a seed reproduces a model exactly on every device) and uploaded.
#pragma once

#include <cstdint>
#include <string>

#include "engine/random.h"
#include "engine/tensor.h"

namespace petabox::nn {

// How Linear and Conv2d initialise their weight. The bias is always U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) as in PyTorch.
enum class Init {
  // PyTorch's default: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  kDefault,
  // He normal, kaiming_normal_(mode="fan_in", nonlinearity="relu"): N(0, 2/fan_in).
  kKaimingNormalFanIn,
  // He normal, kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2/fan_out)
  // (torchvision's ResNet convolutions).
  kKaimingNormalFanOut,
};

// PyTorch's _calculate_fan_in_and_fan_out: for a weight (out, in, *kernel),
// fan_in = in * prod(kernel) and fan_out = out * prod(kernel). Needs >= 2 dims.
struct Fans {
  int64_t in = 0;
  int64_t out = 0;
};
Fans ComputeFans(const Shape& shape);

// U(-bound, bound) and N(0, stddev^2), float32, realized, on `device`.
Tensor UniformTensor(const Shape& shape, double bound, Rng& rng, const std::string& device = "");
Tensor NormalTensor(const Shape& shape, double stddev, Rng& rng, const std::string& device = "");

// A weight of `shape` (out, in, *kernel) initialised per `init`.
Tensor InitWeight(const Shape& shape, Init init, Rng& rng, const std::string& device = "");
// A bias of `out` elements for a weight of `weight_shape`: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Tensor InitBias(int64_t out, const Shape& weight_shape, Rng& rng, const std::string& device = "");

}  // namespace petabox::nn
