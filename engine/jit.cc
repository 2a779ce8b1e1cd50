#include "engine/jit.h"

#include "engine/multi_exec.h"

namespace petabox {
namespace {

// Inputs as buffer-backed tensors with no view, so their buffers can be swapped.
StatusOr<std::vector<Tensor>> Materialize(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    if (!t.ok()) return t.status();
    Tensor c = t.node()->op == Op::kBuffer ? t : t.Contiguous();
    PB_RETURN_IF_ERROR(c.Realize());
    out.push_back(c);
  }
  return out;
}

}  // namespace

Status Jit::CheckInputs(const std::vector<Tensor>& inputs) const {
  if (inputs.size() != input_specs_.size()) {
    return InvalidArgument("jit: called with " + std::to_string(inputs.size()) + " inputs, captured with " +
                           std::to_string(input_specs_.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& a = inputs[i];
    const Tensor& b = input_specs_[i];
    if (a.shape() != b.shape() || a.dtype() != b.dtype() || a.device() != b.device()) {
      return InvalidArgument("jit: input " + std::to_string(i) + " is " + Name(a.dtype()) + ShapeToString(a.shape()) +
                             " on " + a.device() + ", captured as " + Name(b.dtype()) + ShapeToString(b.shape()) +
                             " on " + b.device());
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<Tensor>> Jit::Capture(const std::vector<Tensor>& inputs) {
  std::vector<CapturedOp> log;
  std::vector<Tensor> outs;
  {
    CaptureScope scope(&log);
    PB_ASSIGN_OR_RETURN(outs, fn_(inputs));
    for (Tensor& t : outs) {
      if (t.node()->op != Op::kBuffer) t = t.Contiguous();
      PB_RETURN_IF_ERROR(t.Realize());
    }
  }
  ops_ = std::move(log);
  std::vector<std::vector<std::shared_ptr<Buffer>>> captured;
  for (const CapturedOp& op : ops_) captured.push_back(op.buffers);
  plan_ = PlanOps(ops_, captured);
  input_specs_ = inputs;
  input_slots_.assign(inputs.size(), {});
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Buffer* b = inputs[i].node()->buffer().get();
    for (size_t o = 0; o < ops_.size(); ++o)
      for (size_t k = 0; k < ops_[o].buffers.size(); ++k)
        if (ops_[o].buffers[k].get() == b) input_slots_[i].push_back({o, k});
  }
  outputs_.clear();
  for (const Tensor& t : outs) outputs_.push_back({t.node()->buffer(), t.shape(), t.device()});
  return outs;
}

StatusOr<std::vector<Tensor>> Jit::ReplayAll(const std::vector<Tensor>& inputs) {
  PB_RETURN_IF_ERROR(CheckInputs(inputs));
  std::vector<std::vector<std::shared_ptr<Buffer>>> buffers;
  for (const CapturedOp& op : ops_) buffers.push_back(op.buffers);
  for (size_t i = 0; i < inputs.size(); ++i)
    for (const Slot& s : input_slots_[i]) buffers[s.op][s.buffer] = inputs[i].node()->buffer();
  // Buffer versions are not bumped: a replay repeats the captured step, whose in-place
  // writes already gave the tensors that own those buffers their current nodes.
  // Devices replay concurrently (ExecuteOps); on one device the ops run in captured order.
  PB_RETURN_IF_ERROR(ExecuteOps(ops_, &buffers, &plan_));
  std::vector<Tensor> outs;
  for (const Output& out : outputs_) outs.push_back(Tensor(MakeBufferNode(out.buffer, out.device, out.shape)));
  return outs;
}

StatusOr<std::vector<Tensor>> Jit::Run(const std::vector<Tensor>& raw_inputs) {
  PB_ASSIGN_OR_RETURN(std::vector<Tensor> inputs, Materialize(raw_inputs));
  ++calls_;
  if (calls_ == 1) return fn_(inputs);
  if (calls_ == 2) return Capture(inputs);
  return ReplayAll(inputs);
}

}  // namespace petabox
