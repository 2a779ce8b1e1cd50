#include "engine/nn/optim/optimizer.h"

#include <set>

#include "engine/autograd.h"

namespace petabox::nn {
namespace {

// A realized zero tensor with a buffer of its own (state updated in place).
Tensor ZeroBuffer(const Shape& shape, DType dtype, const std::string& device) {
  Tensor t = Tensor::Zeros(shape, dtype, device).Contiguous();
  if (Status s = t.Realize(); !s.ok()) return Tensor::Error(s);
  return t;
}

// Overwrites a realized tensor's buffer from the host. The write gives the buffer a new
// version, so the handle is moved to a node of that version (graphs built from it later must
// not alias nodes over the old contents).
Status WriteHost(Tensor& t, const void* data, size_t bytes) {
  if (!t.ok()) return t.status();
  std::shared_ptr<Buffer> b = t.node()->buffer();
  PB_RETURN_IF_ERROR(b->CopyIn(data, bytes));
  t = Tensor(MakeBufferNode(b, t.device(), t.shape()));
  return Status::Ok();
}

bool IsUninitialized(const Tensor& t) {
  return !t.node() && t.status().code() == StatusCode::kFailedPrecondition &&
         t.status().message() == "uninitialized tensor";
}

}  // namespace

Optimizer::Optimizer(NamedTensorPtrs params, double lr) : params_(std::move(params)), lr_(lr) {
  step_tensor_ = ZeroBuffer({}, DType::kInt64, "");
  if (!step_tensor_.ok()) init_status_ = step_tensor_.status();
  state_.emplace_back("step", &step_tensor_);
}

std::vector<Tensor*> Optimizer::AddState(const std::string& prefix) {
  std::vector<Tensor*> out;
  for (auto& [name, p] : params_) {
    auto t = std::make_unique<Tensor>(p->ok() ? ZeroBuffer(p->shape(), p->dtype(), p->device()) : *p);
    if (!t->ok() && init_status_.ok()) init_status_ = t->status();
    out.push_back(t.get());
    state_.emplace_back(prefix + "." + name, t.get());
    state_storage_.push_back(std::move(t));
  }
  return out;
}

int Optimizer::AddScalar() {
  std::set<std::string> devices;
  for (auto& [name, p] : params_)
    if (p->ok()) devices.insert(p->device());
  std::map<std::string, Tensor> copies;
  for (const std::string& d : devices) {
    Tensor t = ZeroBuffer({}, DType::kFloat32, d);
    if (!t.ok() && init_status_.ok()) init_status_ = t.status();
    copies.emplace(d, t);
  }
  scalars_.push_back(std::move(copies));
  return static_cast<int>(scalars_.size()) - 1;
}

Status Optimizer::WriteScalar(int id, double value) {
  float v = static_cast<float>(value);
  for (auto& [device, t] : scalars_[id]) PB_RETURN_IF_ERROR(WriteHost(t, &v, sizeof(v)));
  return Status::Ok();
}

void Optimizer::SetLearningRate(double lr) {
  lr_ = lr;
  prepared_ = false;
}

void Optimizer::SetSchedule(LrSchedule schedule) {
  schedule_ = std::move(schedule);
  prepared_ = false;
}

Status Optimizer::PrepareStep(int64_t step) {
  PB_RETURN_IF_ERROR(init_status_);
  if (step < 0) return InvalidArgument("optimizer: step " + std::to_string(step) + " is negative");
  if (schedule_) lr_ = schedule_(step);
  PB_RETURN_IF_ERROR(WriteScalars(step, lr_));
  step_ = step;
  prepared_ = true;
  return Status::Ok();
}

Status Optimizer::Step() {
  PB_RETURN_IF_ERROR(init_status_);
  if (!prepared_) PB_RETURN_IF_ERROR(PrepareStep(step_));
  NoGradGuard no_grad;
  // All gradients are computed first, in one schedule: an update overwrites its parameter
  // in place, and the lazy gradients of the other parameters may still read it.
  std::vector<Tensor> grads(params_.size());
  std::vector<Tensor*> pending;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, p] = params_[i];
    Tensor g = p->grad();
    if (IsUninitialized(g)) continue;
    if (!g.ok()) return Status(g.status().code(), "optimizer: gradient of '" + name + "': " + g.status().message());
    if (g.shape() != p->shape()) {
      return InvalidArgument("optimizer: gradient of '" + name + "' has shape " + ShapeToString(g.shape()) +
                             " but the parameter has " + ShapeToString(p->shape()));
    }
    grads[i] = g.Detach();
    pending.push_back(&grads[i]);
  }
  PB_RETURN_IF_ERROR(RealizeAll(pending));
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!grads[i].node()) continue;
    Status s = Update(i, grads[i]);
    if (!s.ok()) return Status(s.code(), "optimizer: update of '" + params_[i].first + "': " + s.message());
  }
  keep_ = Tensor();
  ++step_;
  prepared_ = false;
  return Status::Ok();
}

Status Optimizer::Write(Tensor* target, const Tensor& value) {
  if (!keep_.node()) return AssignInPlace(target, value);
  Tensor keep = keep_.device() == target->device() ? keep_ : keep_.To(target->device());
  return AssignInPlace(target, Tensor::Where(keep, value, target->Detach()));
}

void Optimizer::ZeroGrad() {
  keep_ = Tensor();  // a condition set for a step that failed before Step used it
  for (auto& [name, p] : params_) p->ZeroGrad();
}

NamedTensorPtrs Optimizer::NamedState() {
  int64_t s = step_;
  (void)WriteHost(step_tensor_, &s, sizeof(s));  // an error here resurfaces when the state is read
  return state_;
}

Status Optimizer::LoadState(const NamedTensors& values, const std::string& source) {
  PB_RETURN_IF_ERROR(init_status_);
  PB_RETURN_IF_ERROR(AssignNamed(NamedState(), values, source));
  PB_ASSIGN_OR_RETURN(double step, step_tensor_.Item());
  step_ = static_cast<int64_t>(step);
  prepared_ = false;
  return Status::Ok();
}

}  // namespace petabox::nn
