// LARS as the MLPerf ResNet-50 reference uses it (momentum applied to the scaled update):
// for a parameter with >= 2 dims
//   trust = eta * ||w|| / (||g|| + weight_decay * ||w||)   (1 when ||w|| or ||g|| is 0)
//   buf = momentum * buf + lr * trust * (g + weight_decay * w)
//   w = w - buf
// and for 1-D parameters (BatchNorm weights and biases, layer biases) no trust ratio and no
// weight decay: buf = momentum * buf + lr * g; w = w - buf. The norms are computed on the
// device inside the update graph.
#pragma once

#include "engine/nn/optim/optimizer.h"

namespace petabox::nn {

struct LarsOptions {
  double lr = 1.0;
  double momentum = 0.9;
  double weight_decay = 5e-5;
  double eta = 0.001;  // trust coefficient
};

class Lars : public Optimizer {
 public:
  Lars(NamedTensorPtrs params, const LarsOptions& options);

 protected:
  Status WriteScalars(int64_t step, double lr) override;
  Status Update(size_t i, const Tensor& grad) override;

 private:
  LarsOptions options_;
  int lr_id_;
  std::vector<Tensor*> momentum_;
};

}  // namespace petabox::nn
