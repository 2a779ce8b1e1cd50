// Stochastic gradient descent as torch.optim.SGD (dampening 0):
//   g = grad + weight_decay * p
//   buf = momentum * buf + g                 (when momentum != 0; buf starts at 0)
//   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
#pragma once

#include "engine/nn/optim/optimizer.h"

namespace petabox::nn {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0
};

class Sgd : public Optimizer {
 public:
  Sgd(NamedTensorPtrs params, const SgdOptions& options);

 protected:
  Status WriteScalars(int64_t step, double lr) override;
  Status Update(size_t i, const Tensor& grad) override;

 private:
  SgdOptions options_;
  int lr_id_;
  std::vector<Tensor*> momentum_;  // empty without momentum
};

}  // namespace petabox::nn
