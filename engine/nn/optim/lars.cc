#include "engine/nn/optim/lars.h"

namespace petabox::nn {

Lars::Lars(NamedTensorPtrs params, const LarsOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options) {
  lr_id_ = AddScalar();
  momentum_ = AddState("momentum");
}

Status Lars::WriteScalars(int64_t, double lr) { return WriteScalar(lr_id_, lr); }

Status Lars::Update(size_t i, const Tensor& grad) {
  const LarsOptions& o = options_;
  Tensor* p = params()[i].second;
  Tensor w = p->Detach();
  Tensor lr = scalar(lr_id_, p->device());
  Tensor step = lr.Mul(grad);
  if (p->ndim() > 1) {  // 1-D parameters skip the adaptation and the weight decay
    Tensor wn = w.Mul(w).Sum().Sqrt(), gn = grad.Mul(grad).Sum().Sqrt();
    Tensor one = Tensor::Full({}, 1.0, DType::kFloat32, p->device());
    Tensor ratio = wn.Mul(o.eta).Div(gn.Add(wn.Mul(o.weight_decay)));
    Tensor trust = Tensor::Where(wn.Gt(0.0), Tensor::Where(gn.Gt(0.0), ratio, one), one);
    step = lr.Mul(trust).Mul(grad.Add(w.Mul(o.weight_decay)));
  }
  Tensor* buf = momentum_[i];
  PB_RETURN_IF_ERROR(Write(buf, buf->Mul(o.momentum).Add(step)));
  return Write(p, w.Sub(*buf));
}

}  // namespace petabox::nn
