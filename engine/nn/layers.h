// The standard layers, with PyTorch's semantics and default initialisation. Each layer is a
// Module; parameters are realized float32 tensors marked RequiresGrad() at construction.
// Invalid construction arguments (zero features, channels not divisible by groups, ...) do
// not abort: the layer's Forward() then returns a Tensor carrying the error.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "engine/nn/init.h"
#include "engine/nn/module.h"
#include "engine/random.h"

namespace petabox::nn {

// y = x @ weight^T + bias; weight (out, in), bias (out). x: (..., in).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true, Init init = Init::kDefault);
  Tensor Forward(const Tensor& x) override;
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }  // uninitialized when built without bias

 private:
  int64_t in_, out_;
  bool has_bias_;
  Tensor weight_, bias_;
};

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  Init init = Init::kDefault;
};

// 2-D convolution (cross-correlation as in PyTorch) with a square kernel; x: (N, Cin, H, W),
// weight (Cout, Cin/groups, k, k), bias (Cout).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Rng& rng, const Conv2dOptions& options = {});
  Tensor Forward(const Tensor& x) override;
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }  // uninitialized when built without bias

 private:
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

// Batch normalization over (N, H, W) per channel of x: (N, C, H, W). Training: normalizes
// with the batch mean and biased variance and updates running_mean/running_var in place
// (Assign) with `momentum`, using the unbiased variance as PyTorch does. Evaluation:
// normalizes with the running statistics. weight starts at 1, bias at 0.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  Tensor Forward(const Tensor& x) override;
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }
  Tensor& running_mean() { return running_mean_; }
  Tensor& running_var() { return running_var_; }
  int64_t channels() const { return channels_; }

  // Training-mode normalization with batch statistics computed elsewhere (data-parallel
  // training computes them over the whole global batch: engine/nn/data_parallel.h): `mean`
  // and the biased `var`, each (1, C, 1, 1), over `count` values per channel. Normalizes x
  // with them, applies weight and bias, and updates the running statistics in place as a
  // training forward does (the unbiased variance from `count`). count must be >= 2.
  Tensor NormalizeWithStats(const Tensor& x, const Tensor& mean, const Tensor& var, int64_t count);

 private:
  Tensor TrainForward(const Tensor& x);
  int64_t channels_;
  double eps_, momentum_;
  Tensor weight_, bias_, running_mean_, running_var_;
};

// Max / average pooling over the last two axes; stride 0 means stride = kernel. Average
// pooling counts padding (PyTorch's count_include_pad=True).
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : kernel_(kernel), stride_(stride ? stride : kernel), padding_(padding) {}
  Tensor Forward(const Tensor& x) override;

 private:
  int64_t kernel_, stride_, padding_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
      : kernel_(kernel), stride_(stride ? stride : kernel), padding_(padding) {}
  Tensor Forward(const Tensor& x) override;

 private:
  int64_t kernel_, stride_, padding_;
};

// Flattens axes start..end (inclusive; default: all but the batch axis).
class Flatten : public Module {
 public:
  explicit Flatten(int start = 1, int end = -1) : start_(start), end_(end) {}
  Tensor Forward(const Tensor& x) override { return x.Flatten(start_, end_); }

 private:
  int start_, end_;
};

class ReLU : public Module {
 public:
  Tensor Forward(const Tensor& x) override { return x.Relu(); }
};

// Training: zeroes each element with probability p (mask drawn from the layer's own Rng)
// and scales the rest by 1/(1-p). Evaluation: identity. p must be in [0, 1].
// The mask is drawn on the host and uploaded per call: a JIT-captured step would replay
// one mask (a device-side generator is needed for that).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, uint64_t seed = 0) : p_(p), rng_(seed) {}
  Tensor Forward(const Tensor& x) override;
  // The generator, for checkpointing its state.
  Rng& rng() { return rng_; }

 private:
  double p_;
  Rng rng_;
};

// Applies its children in order; they are named "0", "1", ... .
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::unique_ptr<Module>> layers);
  // Appends a layer; returns *this.
  Sequential& Add(std::unique_ptr<Module> layer);
  template <typename T, typename... Args>
  T& Emplace(Args&&... args) {
    auto layer = std::make_unique<T>(std::forward<Args>(args)...);
    T& ref = *layer;
    Add(std::move(layer));
    return ref;
  }
  Tensor Forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) { return *layers_[i]; }

 private:
  std::vector<std::unique_ptr<Module>> layers_;
};

}  // namespace petabox::nn
