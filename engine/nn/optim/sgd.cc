#include "engine/nn/optim/sgd.h"

namespace petabox::nn {

Sgd::Sgd(NamedTensorPtrs params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options) {
  lr_id_ = AddScalar();
  if (options_.momentum != 0) momentum_ = AddState("momentum");
}

Status Sgd::WriteScalars(int64_t, double lr) {
  if (options_.nesterov && options_.momentum <= 0) return InvalidArgument("SGD: nesterov needs momentum > 0");
  return WriteScalar(lr_id_, lr);
}

Status Sgd::Update(size_t i, const Tensor& grad) {
  Tensor* p = params()[i].second;
  Tensor w = p->Detach();
  Tensor g = options_.weight_decay != 0 ? grad.Add(w.Mul(options_.weight_decay)) : grad;
  if (!momentum_.empty()) {
    Tensor* buf = momentum_[i];
    PB_RETURN_IF_ERROR(Write(buf, buf->Mul(options_.momentum).Add(g)));
    g = options_.nesterov ? g.Add(buf->Mul(options_.momentum)) : *buf;
  }
  return Write(p, w.Sub(scalar(lr_id_, p->device()).Mul(g)));
}

}  // namespace petabox::nn
