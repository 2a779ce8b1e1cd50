#include "engine/nn/layers.h"

#include <string>

namespace petabox::nn {
namespace {

// Marks a freshly initialised tensor as a parameter (errors pass through unchanged).
Tensor AsParameter(Tensor t) {
  if (t.ok()) t.RequiresGrad();
  return t;
}

Tensor Channels(const Tensor& t, int64_t c) { return t.Reshape({1, c, 1, 1}); }

}  // namespace

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias, Init init)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  if (in_features <= 0 || out_features <= 0) {
    weight_ = Tensor::Error(InvalidArgument("Linear: in_features " + std::to_string(in_features) +
                                            " and out_features " + std::to_string(out_features) + " must be > 0"));
  } else {
    weight_ = AsParameter(InitWeight({out_, in_}, init, rng));
    if (has_bias_) bias_ = AsParameter(InitBias(out_, {out_, in_}, rng));
  }
  RegisterParameter("weight", &weight_);
  if (has_bias_) RegisterParameter("bias", &bias_);
}

Tensor Linear::Forward(const Tensor& x) {
  if (!weight_.ok()) return weight_;
  if (!x.ok()) return x;
  if (x.ndim() < 1 || x.shape().back() != in_) {
    return Tensor::Error(InvalidArgument("Linear: input " + ShapeToString(x.shape()) + " does not end in " +
                                         std::to_string(in_) + " features"));
  }
  Tensor y = x.Matmul(weight_.Transpose());
  return has_bias_ ? y.Add(bias_) : y;
}

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Rng& rng, const Conv2dOptions& options)
    : options_(options) {
  const Conv2dOptions& o = options;
  if (in_channels <= 0 || out_channels <= 0 || kernel <= 0 || o.stride <= 0 || o.padding < 0 || o.dilation <= 0 ||
      o.groups <= 0 || in_channels % o.groups || out_channels % o.groups) {
    weight_ = Tensor::Error(InvalidArgument(
        "Conv2d: invalid configuration in=" + std::to_string(in_channels) + " out=" + std::to_string(out_channels) +
        " kernel=" + std::to_string(kernel) + " stride=" + std::to_string(o.stride) +
        " padding=" + std::to_string(o.padding) + " dilation=" + std::to_string(o.dilation) +
        " groups=" + std::to_string(o.groups) + " (sizes must be positive and channels divisible by groups)"));
  } else {
    Shape wshape{out_channels, in_channels / o.groups, kernel, kernel};
    weight_ = AsParameter(InitWeight(wshape, o.init, rng));
    if (o.bias) bias_ = AsParameter(InitBias(out_channels, wshape, rng));
  }
  RegisterParameter("weight", &weight_);
  if (o.bias) RegisterParameter("bias", &bias_);
}

Tensor Conv2d::Forward(const Tensor& x) {
  if (!weight_.ok()) return weight_;
  const Conv2dOptions& o = options_;
  return x.Conv2d(weight_, o.bias ? bias_ : Tensor(), {o.stride, o.stride}, {o.padding, o.padding},
                  {o.dilation, o.dilation}, o.groups);
}

// ---------------------------------------------------------------- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum)
    : channels_(channels), eps_(eps), momentum_(momentum) {
  if (channels <= 0 || eps <= 0 || momentum < 0 || momentum > 1) {
    weight_ = Tensor::Error(InvalidArgument("BatchNorm2d: channels " + std::to_string(channels) + ", eps " +
                                            std::to_string(eps) + ", momentum " + std::to_string(momentum) +
                                            " (need channels > 0, eps > 0, 0 <= momentum <= 1)"));
  } else {
    // Each is realized into a buffer of its own: running stats are updated in place.
    weight_ = AsParameter(Tensor::Ones({channels}).Contiguous());
    bias_ = AsParameter(Tensor::Zeros({channels}).Contiguous());
    running_mean_ = Tensor::Zeros({channels}).Contiguous();
    running_var_ = Tensor::Ones({channels}).Contiguous();
    if (Status s = RealizeAll({&running_mean_, &running_var_}); !s.ok()) weight_ = Tensor::Error(s);
  }
  RegisterParameter("weight", &weight_);
  RegisterParameter("bias", &bias_);
  RegisterBuffer("running_mean", &running_mean_);
  RegisterBuffer("running_var", &running_var_);
}

Tensor BatchNorm2d::Forward(const Tensor& x) {
  if (!weight_.ok()) return weight_;
  if (!x.ok()) return x;
  if (x.ndim() != 4 || x.shape()[1] != channels_) {
    return Tensor::Error(InvalidArgument("BatchNorm2d: input " + ShapeToString(x.shape()) + " is not (N, " +
                                         std::to_string(channels_) + ", H, W)"));
  }
  if (training()) return TrainForward(x);
  Tensor scale = weight_.Mul(running_var_.Add(eps_).Rsqrt());
  Tensor shift = bias_.Sub(running_mean_.Mul(scale));
  return x.Mul(Channels(scale, channels_)).Add(Channels(shift, channels_));
}

Tensor BatchNorm2d::TrainForward(const Tensor& x) {
  int64_t n = x.numel() / channels_;
  if (n < 2) {
    return Tensor::Error(InvalidArgument("BatchNorm2d: training needs more than 1 value per channel, got input " +
                                         ShapeToString(x.shape())));
  }
  Tensor mean = x.Mean({0, 2, 3}, true);
  Tensor var = x.Var({0, 2, 3}, true, /*correction=*/0);
  return NormalizeWithStats(x, mean, var, n);
}

Tensor BatchNorm2d::NormalizeWithStats(const Tensor& x, const Tensor& mean, const Tensor& var, int64_t n) {
  if (!weight_.ok()) return weight_;
  if (n < 2) {
    return Tensor::Error(InvalidArgument("BatchNorm2d: training needs more than 1 value per channel, got " +
                                         std::to_string(n)));
  }
  Tensor y = x.Sub(mean).Mul(var.Add(eps_).Rsqrt());
  y = y.Mul(Channels(weight_, channels_)).Add(Channels(bias_, channels_));
  // Running statistics: no gradient flows into them; the variance is the unbiased one.
  double m = momentum_, unbias = static_cast<double>(n) / static_cast<double>(n - 1);
  Tensor new_mean = running_mean_.Mul(1 - m).Add(mean.Detach().Reshape({channels_}).Mul(m));
  Tensor new_var = running_var_.Mul(1 - m).Add(var.Detach().Reshape({channels_}).Mul(m * unbias));
  if (Tensor r = running_mean_.Assign(new_mean); !r.ok()) return r;
  if (Tensor r = running_var_.Assign(new_var); !r.ok()) return r;
  return y;
}

// ---------------------------------------------------------------- pooling, dropout

Tensor MaxPool2d::Forward(const Tensor& x) {
  return x.MaxPool2d({kernel_, kernel_}, {stride_, stride_}, {padding_, padding_});
}

Tensor AvgPool2d::Forward(const Tensor& x) {
  return x.AvgPool2d({kernel_, kernel_}, {stride_, stride_}, {padding_, padding_});
}

Tensor Dropout::Forward(const Tensor& x) {
  if (!(p_ >= 0 && p_ <= 1))
    return Tensor::Error(InvalidArgument("Dropout: p = " + std::to_string(p_) + " is not in [0, 1]"));
  if (!training() || p_ == 0 || !x.ok()) return x;
  if (p_ == 1) return x.Mul(0.0);
  Tensor keep =
      Tensor::Rand(x.shape(), rng_, DType::kFloat32, x.device()).Ge(Tensor::Full({}, p_, DType::kFloat32, x.device()));
  return x.Mul(keep.Cast(x.dtype())).Mul(1.0 / (1.0 - p_));
}

// ---------------------------------------------------------------- Sequential

Sequential::Sequential(std::vector<std::unique_ptr<Module>> layers) {
  for (auto& l : layers) Add(std::move(l));
}

Sequential& Sequential::Add(std::unique_ptr<Module> layer) {
  RegisterModule(std::to_string(layers_.size()), layer.get());
  layer->Train(training());
  layers_.push_back(std::move(layer));
  return *this;
}

Tensor Sequential::Forward(const Tensor& x) {
  Tensor y = x;
  for (auto& l : layers_) y = l->Forward(y);
  return y;
}

}  // namespace petabox::nn
