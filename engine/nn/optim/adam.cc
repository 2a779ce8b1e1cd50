#include "engine/nn/optim/adam.h"

#include <cmath>

namespace petabox::nn {

Adam::Adam(NamedTensorPtrs params, const AdamOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options) {
  step_size_id_ = AddScalar();
  inv_sqrt_bc2_id_ = AddScalar();
  decay_id_ = AddScalar();
  m_ = AddState("exp_avg");
  v_ = AddState("exp_avg_sq");
}

Status Adam::WriteScalars(int64_t step, double lr) {
  double t = static_cast<double>(step + 1);
  double bc1 = 1 - std::pow(options_.beta1, t), bc2 = 1 - std::pow(options_.beta2, t);
  PB_RETURN_IF_ERROR(WriteScalar(step_size_id_, lr / bc1));
  PB_RETURN_IF_ERROR(WriteScalar(inv_sqrt_bc2_id_, 1 / std::sqrt(bc2)));
  return WriteScalar(decay_id_, 1 - lr * options_.weight_decay);
}

Status Adam::Update(size_t i, const Tensor& grad) {
  const AdamOptions& o = options_;
  Tensor* p = params()[i].second;
  const std::string& dev = p->device();
  Tensor w = p->Detach();
  Tensor g = grad;
  if (o.weight_decay != 0) {
    if (o.decoupled_weight_decay)
      w = w.Mul(scalar(decay_id_, dev));
    else
      g = g.Add(w.Mul(o.weight_decay));
  }
  PB_RETURN_IF_ERROR(Write(m_[i], m_[i]->Mul(o.beta1).Add(g.Mul(1 - o.beta1))));
  PB_RETURN_IF_ERROR(Write(v_[i], v_[i]->Mul(o.beta2).Add(g.Mul(g).Mul(1 - o.beta2))));
  Tensor denom = v_[i]->Sqrt().Mul(scalar(inv_sqrt_bc2_id_, dev)).Add(o.eps);
  return Write(p, w.Sub(scalar(step_size_id_, dev).Mul(m_[i]->Div(denom))));
}

}  // namespace petabox::nn
