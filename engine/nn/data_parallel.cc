#include "engine/nn/data_parallel.h"

#include <set>

#include "engine/autocast.h"
#include "engine/nn/layers.h"
#include "engine/nn/state_dict.h"

namespace petabox::nn {
namespace {

bool IsUninitialized(const Tensor& t) {
  return !t.node() && t.status().code() == StatusCode::kFailedPrecondition &&
         t.status().message() == "uninitialized tensor";
}

bool HasBatchNorm(Module& m) {
  if (dynamic_cast<BatchNorm2d*>(&m)) return true;
  for (auto& [name, child] : m.children())
    if (HasBatchNorm(*child)) return true;
  return false;
}

// The device every parameter and buffer of `m` is on; InvalidArgument if they differ.
StatusOr<std::string> DeviceOf(Module& m, size_t index) {
  std::string device;
  for (auto& [name, t] : m.NamedState()) {
    if (!t->ok()) return t->status();
    if (device.empty()) device = t->device();
    if (t->device() != device) {
      return InvalidArgument("data parallel: replica " + std::to_string(index) + " has '" + name + "' on " +
                             t->device() + " but other state on " + device);
    }
  }
  if (device.empty()) return InvalidArgument("data parallel: replica " + std::to_string(index) + " has no state");
  return device;
}

Status SameStructure(Module& a, Module& b, size_t index) {
  NamedTensorPtrs sa = a.NamedState(), sb = b.NamedState();
  bool same = sa.size() == sb.size();
  for (size_t i = 0; same && i < sa.size(); ++i)
    same = sa[i].first == sb[i].first && sa[i].second->shape() == sb[i].second->shape();
  if (same) return Status::Ok();
  return InvalidArgument("data parallel: replica " + std::to_string(index) +
                         " differs from replica 0 in its parameter names or shapes");
}

// Batch statistics over all replicas' inputs (two all-reduces: the sums, then the squared
// deviations from the global mean, as one device computes a variance), then each replica's
// normalization with them.
StatusOr<std::vector<Tensor>> SyncBatchNorm(const std::vector<BatchNorm2d*>& bns, const std::vector<Tensor>& xs,
                                            AllReduceOptions options) {
  options.reduce_dtype.reset();
  const int64_t c = bns[0]->channels();
  int64_t count = 0;
  std::vector<Tensor> sums, out;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].ok() || xs[i].ndim() != 4 || xs[i].shape()[1] != c) {
      Tensor error = bns[i]->Forward(xs[i]);  // the layer's own message for a bad input
      return error.ok() ? InvalidArgument("BatchNorm2d: bad input " + ShapeToString(xs[i].shape())) : error.status();
    }
    count += xs[i].numel() / c;
    sums.push_back(AutocastWide(xs[i]).Sum({0, 2, 3}, true));  // float32 statistics under autocast
  }
  PB_ASSIGN_OR_RETURN(std::vector<Tensor> total, AllReduce(sums, options));
  std::vector<Tensor> means, squares;
  for (size_t i = 0; i < xs.size(); ++i) {
    means.push_back(total[i].Mul(1.0 / static_cast<double>(count)));
    Tensor d = xs[i].Sub(means[i]);
    squares.push_back(d.Mul(d).Sum({0, 2, 3}, true));
  }
  PB_ASSIGN_OR_RETURN(std::vector<Tensor> spread, AllReduce(squares, options));
  for (size_t i = 0; i < xs.size(); ++i)
    out.push_back(bns[i]->NormalizeWithStats(xs[i], means[i], spread[i].Mul(1.0 / static_cast<double>(count)), count));
  return out;
}

// The replicas' forward passes layer by layer, so that BatchNorm2d layers can use the
// statistics of all replicas' inputs.
StatusOr<std::vector<Tensor>> Lockstep(const std::vector<Module*>& mods, std::vector<Tensor> xs,
                                       const AllReduceOptions& options) {
  if (dynamic_cast<Sequential*>(mods[0])) {
    const size_t layers = static_cast<Sequential*>(mods[0])->size();
    for (size_t l = 0; l < layers; ++l) {
      std::vector<Module*> layer;
      for (Module* m : mods) layer.push_back(&(*static_cast<Sequential*>(m))[l]);
      PB_ASSIGN_OR_RETURN(xs, Lockstep(layer, std::move(xs), options));
    }
    return xs;
  }
  if (auto* bn = dynamic_cast<BatchNorm2d*>(mods[0]); bn && bn->training()) {
    std::vector<BatchNorm2d*> bns;
    for (Module* m : mods) bns.push_back(static_cast<BatchNorm2d*>(m));
    return SyncBatchNorm(bns, xs, options);
  }
  if (mods[0]->training() && HasBatchNorm(*mods[0])) {
    return FailedPrecondition("sync_batchnorm: BatchNorm2d layers can be synchronized only inside Sequential "
                              "containers, and this model has one inside another kind of module");
  }
  for (size_t i = 0; i < mods.size(); ++i) xs[i] = mods[i]->Forward(xs[i]);
  return xs;
}

}  // namespace

std::vector<int64_t> SplitBatch(int64_t batch, int devices) {
  std::vector<int64_t> sizes;
  for (int i = 0; i < devices; ++i) sizes.push_back(batch / devices + (i < batch % devices));
  return sizes;
}

Status MoveToDevice(Module& module, const std::string& device) {
  for (auto& [name, t] : module.NamedState()) {
    if (!t->ok()) return t->status();
    if (t->device() == device) continue;
    // Detached, so the copy becomes a buffer of its own (a new leaf), not a view of the old one.
    Tensor moved = t->Detach().To(device).Contiguous();
    PB_RETURN_IF_ERROR(moved.Realize());
    if (t->requires_grad()) moved.RequiresGrad();
    *t = moved;
  }
  return Status::Ok();
}

Status CopyModuleState(Module& from, Module& to) { return AssignNamed(to.NamedState(), StateDict(from), "replica"); }

Status CopyOptimizerState(Optimizer& from, Optimizer& to) {
  NamedTensors values;
  for (auto& [name, t] : from.NamedState()) values.emplace_back(name, *t);
  return to.LoadState(values, "optimizer of replica 0");
}

DataParallelStep::DataParallelStep(std::vector<Module*> replicas, std::vector<Optimizer*> optimizers,
                                   DataParallelOptions options, std::vector<std::string> devices)
    : replicas_(std::move(replicas)), optimizers_(std::move(optimizers)), options_(std::move(options)),
      devices_(std::move(devices)) {
  if (options_.use_jit) jit_ = MakeJit();
}

std::unique_ptr<Jit> DataParallelStep::MakeJit() {
  return std::make_unique<Jit>([this](const std::vector<Tensor>& in) { return Build(in); });
}

StatusOr<std::unique_ptr<DataParallelStep>> DataParallelStep::Create(std::vector<Module*> replicas,
                                                                    std::vector<Optimizer*> optimizers,
                                                                    DataParallelOptions options) {
  if (replicas.empty() || replicas.size() != optimizers.size()) {
    return InvalidArgument("data parallel: " + std::to_string(replicas.size()) + " replicas and " +
                           std::to_string(optimizers.size()) + " optimizers (need one optimizer per replica, >= 1)");
  }
  if (options.bucket_bytes < 1) return InvalidArgument("data parallel: bucket_bytes must be >= 1");
  std::vector<std::string> devices;
  std::set<std::string> seen;
  for (size_t i = 0; i < replicas.size(); ++i) {
    PB_RETURN_IF_ERROR(SameStructure(*replicas[0], *replicas[i], i));
    PB_ASSIGN_OR_RETURN(std::string device, DeviceOf(*replicas[i], i));
    if (!seen.insert(device).second)
      return InvalidArgument("data parallel: two replicas on " + device + " (one replica per device)");
    if (optimizers[i]->params().size() != optimizers[0]->params().size())
      return InvalidArgument("data parallel: optimizer " + std::to_string(i) + " holds other parameters than optimizer 0");
    devices.push_back(device);
  }
  for (const std::string& device : devices) PB_RETURN_IF_ERROR(CheckPrecisionSupported(options.precision, device));
  std::unique_ptr<LossScaler> scaler;
  if (options.precision == Precision::kFloat16) {
    PB_ASSIGN_OR_RETURN(scaler, LossScaler::Create(devices, options.loss_scaling));
  }
  std::unique_ptr<DataParallelStep> step(
      new DataParallelStep(std::move(replicas), std::move(optimizers), std::move(options), std::move(devices)));
  step->scaler_ = std::move(scaler);
  return step;
}

StatusOr<double> DataParallelStep::Run(const std::vector<Tensor>& images, const std::vector<Tensor>& labels,
                                       int64_t step) {
  const size_t n = replicas_.size();
  if (images.size() != n || labels.size() != n) {
    return InvalidArgument("data parallel: " + std::to_string(images.size()) + " image parts and " +
                           std::to_string(labels.size()) + " label parts for " + std::to_string(n) + " devices");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!images[i].ok()) return images[i].status();
    if (!labels[i].ok()) return labels[i].status();
    if (images[i].device() != devices_[i] || labels[i].device() != devices_[i] || images[i].ndim() < 1 ||
        images[i].shape()[0] < 1) {
      return InvalidArgument("data parallel: part " + std::to_string(i) + " (images " +
                             ShapeToString(images[i].shape()) + " on " + images[i].device() + ", labels on " +
                             labels[i].device() + ") must be non-empty and on " + devices_[i]);
    }
  }
  for (Optimizer* o : optimizers_) PB_RETURN_IF_ERROR(o->PrepareStep(step));
  if (scaler_) PB_RETURN_IF_ERROR(scaler_->Prepare());
  const bool replay = captured();
  std::vector<Tensor> inputs = images;
  inputs.insert(inputs.end(), labels.begin(), labels.end());
  StatusOr<std::vector<Tensor>> out = jit_ ? jit_->Run(inputs) : Build(inputs);
  if (!out.ok()) {
    if (jit_ && !replay) jit_ = MakeJit();  // a failed first or second call leaves no usable capture
    return out.status();
  }
  // A replay runs no host code: advance the optimizers' counters as an eager step would.
  if (replay)
    for (Optimizer* o : optimizers_) PB_RETURN_IF_ERROR(o->PrepareStep(step + 1));
  if (scaler_) {
    PB_ASSIGN_OR_RETURN(double finite, (*out)[1].Item());
    last_skipped_ = finite == 0;
    scaler_->Update(!last_skipped_);
  }
  return (*out)[0].Item();
}

StatusOr<std::vector<Tensor>> DataParallelStep::Build(const std::vector<Tensor>& inputs) {
  StatusOr<std::vector<Tensor>> out = BuildAndUpdate(inputs);
  ZeroGrad();  // on failure too: a half-built step leaves no gradient behind
  return out;
}

void DataParallelStep::ZeroGrad() {
  for (Optimizer* o : optimizers_) o->ZeroGrad();
  for (Module* m : replicas_) m->ZeroGrad();
}

StatusOr<std::vector<Tensor>> DataParallelStep::Forward(const std::vector<Tensor>& images) {
  if (options_.sync_batchnorm && replicas_.size() > 1) return Lockstep(replicas_, images, options_.allreduce);
  std::vector<Tensor> out;
  for (size_t i = 0; i < replicas_.size(); ++i) out.push_back(replicas_[i]->Forward(images[i]));
  return out;
}

StatusOr<std::vector<Tensor>> DataParallelStep::BuildAndUpdate(const std::vector<Tensor>& inputs) {
  const size_t n = replicas_.size();
  std::vector<Tensor> images(inputs.begin(), inputs.begin() + n), labels(inputs.begin() + n, inputs.end());
  // Synchronized BatchNorm runs the replicas' layers in lockstep; otherwise each replica
  // computes its own loss (Module::TrainingLoss: a graph model's is its graph's).
  const bool lockstep = options_.sync_batchnorm && n > 1;
  std::vector<Tensor> logits;
  std::vector<Tensor> losses;
  {
    AutocastGuard autocast(ComputeDType(options_.precision));  // the forward passes and losses only
    if (lockstep) {
      PB_ASSIGN_OR_RETURN(logits, Forward(images));
    }
    PB_ASSIGN_OR_RETURN(losses, Losses(images, labels, logits));
  }
  // The scaled losses' gradients (float16), unscaled after the all-reduce.
  for (Tensor& loss : losses) PB_RETURN_IF_ERROR((scaler_ ? scaler_->Scale(loss) : loss).Backward());
  Tensor total = losses[0];
  for (size_t i = 1; i < n; ++i) total = total.Add(losses[i].Detach().To(devices_[0]));
  if (n > 1) PB_RETURN_IF_ERROR(AllReduceGradients());
  // The loss and all gradients in one schedule, before the updates overwrite parameters.
  Tensor value = total.Detach().Contiguous();
  std::vector<Tensor> finite;
  if (scaler_) {
    for (Optimizer* o : optimizers_) {
      PB_ASSIGN_OR_RETURN(Tensor f, scaler_->UnscaleGradients(*o));
      finite.push_back(f.Detach().Contiguous());
    }
  }
  std::vector<Tensor> grads;
  for (Optimizer* o : optimizers_)
    for (const auto& [name, p] : o->params())
      if (Tensor g = p->grad(); g.ok()) grads.push_back(g);
  std::vector<Tensor*> roots = {&value};
  for (Tensor& f : finite) roots.push_back(&f);
  for (Tensor& g : grads) roots.push_back(&g);
  PB_RETURN_IF_ERROR(RealizeAll(roots));
  for (size_t i = 0; i < finite.size(); ++i) optimizers_[i]->SetUpdateCondition(finite[i]);
  for (Optimizer* o : optimizers_) PB_RETURN_IF_ERROR(o->Step());
  if (scaler_) return std::vector<Tensor>{value, finite[0]};
  return std::vector<Tensor>{value};
}

// Each part's loss, weighted by its share of the global batch.
StatusOr<std::vector<Tensor>> DataParallelStep::Losses(const std::vector<Tensor>& images,
                                                       const std::vector<Tensor>& labels,
                                                       const std::vector<Tensor>& logits) {
  const size_t n = replicas_.size();
  const bool lockstep = !logits.empty();
  int64_t batch = 0;
  for (const Tensor& x : images) batch += x.shape()[0];
  // The global mean loss is the sum of each part's mean weighted by its share of the batch.
  // Each part's weighted loss is differentiated on its own device, seeded by a constant
  // there (the kernels are then those of one-device training); the gradients of the sum
  // accumulate in every replica's parameters (with synchronized BatchNorm a part's loss
  // reaches the other replicas' parameters too, through the all-reduced statistics).
  std::vector<Tensor> losses;
  for (size_t i = 0; i < n; ++i) {
    Tensor loss = lockstep ? logits[i].CrossEntropy(labels[i], options_.label_smoothing)
                           : replicas_[i]->TrainingLoss(images[i], labels[i], options_.label_smoothing);
    if (n > 1) loss = loss.Mul(static_cast<double>(images[i].shape()[0]) / static_cast<double>(batch));
    losses.push_back(loss);
  }
  return losses;
}

// Replaces each replica's gradients by their sum over the replicas: the gradients of a
// bucket flattened into one vector per replica, all-reduced, and cut back into views.
Status DataParallelStep::AllReduceGradients() {
  const size_t n = replicas_.size();
  // Parameters with a gradient, in parameter order: the scheduler then meets the gradients
  // in the order one-device training realizes them, and a value several gradients share is
  // computed into a buffer before the gradients that read it (in the opposite order, the
  // first gradient to read it recomputed it in its own kernel: conv bias gradients ran 7x
  // slower on an H200).
  std::vector<size_t> order;
  for (size_t j = 0; j < optimizers_[0]->params().size(); ++j) {
    const auto& [name, p] = optimizers_[0]->params()[j];
    Tensor g = p->grad();
    if (IsUninitialized(g)) continue;
    if (!g.ok()) return g.status();
    order.push_back(j);
  }
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    int64_t bytes = 0;
    while (end < order.size() && (end == start || bytes < options_.bucket_bytes)) {
      const Tensor* p = optimizers_[0]->params()[order[end++]].second;
      bytes += p->numel() * ItemSize(p->dtype());
    }
    std::vector<Tensor> flat;
    for (size_t i = 0; i < n; ++i) {
      std::vector<Tensor> parts;
      for (size_t k = start; k < end; ++k) {
        const auto& [name, p] = optimizers_[i]->params()[order[k]];
        Tensor g = p->grad();
        if (!g.ok()) return InvalidArgument("data parallel: replica " + std::to_string(i) + " has no gradient for '" + name + "'");
        parts.push_back(g.Reshape({g.numel()}));
      }
      flat.push_back(parts.size() == 1 ? parts[0] : Tensor::Cat(parts, 0));
    }
    PB_ASSIGN_OR_RETURN(std::vector<Tensor> summed, AllReduce(flat, options_.allreduce));
    for (size_t i = 0; i < n; ++i) {
      int64_t offset = 0;
      for (size_t k = start; k < end; ++k) {
        Tensor* p = optimizers_[i]->params()[order[k]].second;
        p->SetGrad(summed[i].Shrink({{offset, offset + p->numel()}}).Reshape(p->shape()));
        offset += p->numel();
      }
    }
    start = end;
  }
  return Status::Ok();
}

}  // namespace petabox::nn
