// Adam and AdamW as torch.optim.Adam / AdamW (amsgrad off), t = step + 1:
//   Adam:  g = grad + weight_decay * p          AdamW: p = p * (1 - lr * weight_decay)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// lr and both bias corrections are per-step device scalars (see Optimizer).
#pragma once

#include "engine/nn/optim/optimizer.h"

namespace petabox::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // true: AdamW
};

class Adam : public Optimizer {
 public:
  Adam(NamedTensorPtrs params, const AdamOptions& options);

 protected:
  Status WriteScalars(int64_t step, double lr) override;
  Status Update(size_t i, const Tensor& grad) override;

 private:
  AdamOptions options_;
  int step_size_id_;     // lr / (1 - beta1^t)
  int inv_sqrt_bc2_id_;  // 1 / sqrt(1 - beta2^t)
  int decay_id_;         // 1 - lr * weight_decay (AdamW)
  std::vector<Tensor*> m_, v_;
};

// torch.optim.AdamW's defaults (weight_decay 0.01, decoupled).
class AdamW : public Adam {
 public:
  AdamW(NamedTensorPtrs params, AdamOptions options) : Adam(std::move(params), WithDecoupled(options)) {}

 private:
  static AdamOptions WithDecoupled(AdamOptions o) {
    o.decoupled_weight_decay = true;
    return o;
  }
};

}  // namespace petabox::nn
