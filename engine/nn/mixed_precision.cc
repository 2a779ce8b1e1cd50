#include "engine/nn/mixed_precision.h"

#include <cfloat>
#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/device_source.h"

namespace petabox::nn {
namespace {

// A realized float32 0-d buffer of its own on `device`.
StatusOr<Tensor> ScalarBuffer(const std::string& device) {
  Tensor t = Tensor::Zeros({}, DType::kFloat32, device).Contiguous();
  PB_RETURN_IF_ERROR(t.Realize());
  return t;
}

// Overwrites a realized 0-d float32 buffer from the host; the handle moves to a node of the
// buffer's new version (as Optimizer's scalars do), so later graphs do not alias the old one.
Status WriteScalar(Tensor& t, double value) {
  const float v = static_cast<float>(value);
  std::shared_ptr<Buffer> b = t.node()->buffer();
  PB_RETURN_IF_ERROR(b->CopyIn(&v, sizeof(v)));
  t = Tensor(MakeBufferNode(b, t.device(), t.shape()));
  return Status::Ok();
}

bool IsUninitialized(const Tensor& t) {
  return !t.node() && t.status().code() == StatusCode::kFailedPrecondition &&
         t.status().message() == "uninitialized tensor";
}

}  // namespace

StatusOr<Precision> ParsePrecision(std::string_view name) {
  if (name == "float32") return Precision::kFloat32;
  if (name == "bfloat16") return Precision::kBFloat16;
  if (name == "float16") return Precision::kFloat16;
  return InvalidArgument("precision: unknown precision '" + std::string(name) +
                         "' (expected float32, bfloat16 or float16)");
}

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kBFloat16: return "bfloat16";
    case Precision::kFloat16: return "float16";
    default: return "float32";
  }
}

DType ComputeDType(Precision precision) {
  switch (precision) {
    case Precision::kBFloat16: return DType::kBFloat16;
    case Precision::kFloat16: return DType::kFloat16;
    default: return DType::kFloat32;
  }
}

Status CheckPrecisionSupported(Precision precision, const std::string& device) {
  if (precision == Precision::kFloat32) return Status::Ok();
  PB_ASSIGN_OR_RETURN(Device * d, GetDevice(device));
  return CheckPrecisionSupported(precision, d->properties());
}

Status CheckPrecisionSupported(Precision precision, const DeviceProperties& props) {
  if (precision == Precision::kFloat32) return Status::Ok();
  const bool half = precision == Precision::kFloat16;
  if (half ? props.capabilities.stores_float16 : props.capabilities.stores_bfloat16) return Status::Ok();
  return FailedPrecondition(std::string("precision ") + PrecisionName(precision) + ": device " + props.name +
                            " cannot train in it (its kernels do not load and store " + PrecisionName(precision) +
                            "); use precision float32 on this device");
}

LossScaler::LossScaler(LossScalerOptions options, std::map<std::string, Buffers> buffers)
    : options_(options), buffers_(std::move(buffers)), scale_(options.initial_scale) {}

StatusOr<std::unique_ptr<LossScaler>> LossScaler::Create(const std::vector<std::string>& devices,
                                                         LossScalerOptions options) {
  const LossScalerOptions& o = options;
  if (!(o.initial_scale > 0 && o.initial_scale <= FLT_MAX) || !(o.growth_factor > 1) ||
      !(o.backoff_factor > 0 && o.backoff_factor < 1) || o.growth_interval < 1) {
    return InvalidArgument("loss scaling: need 0 < initial_scale <= FLT_MAX, growth_factor > 1, 0 < backoff_factor < 1 "
                           "and growth_interval >= 1");
  }
  std::map<std::string, Buffers> buffers;
  for (const std::string& d : devices) {
    PB_ASSIGN_OR_RETURN(Tensor scale, ScalarBuffer(d));
    PB_ASSIGN_OR_RETURN(Tensor inv_scale, ScalarBuffer(d));
    buffers[scale.device()] = Buffers{scale, inv_scale};
  }
  std::unique_ptr<LossScaler> scaler(new LossScaler(options, std::move(buffers)));
  PB_RETURN_IF_ERROR(scaler->Prepare());
  return scaler;
}

const LossScaler::Buffers* LossScaler::On(const std::string& device) const {
  auto it = buffers_.find(device);
  return it == buffers_.end() ? nullptr : &it->second;
}

Tensor LossScaler::Scale(const Tensor& loss) const {
  if (!loss.ok()) return loss;
  const Buffers* b = On(loss.device());
  if (b == nullptr) return Tensor::Error(InvalidArgument("loss scaling: no scale on device " + loss.device()));
  return loss.Mul(b->scale);
}

StatusOr<Tensor> LossScaler::UnscaleGradients(Optimizer& optimizer) const {
  Tensor total;  // the sum of all |gradient|: finite exactly when every element is
  std::string device;
  for (const auto& [name, p] : optimizer.params()) {
    Tensor g = p->grad();
    if (IsUninitialized(g)) continue;
    if (!g.ok()) return g.status();
    const Buffers* b = On(g.device());
    if (b == nullptr) return InvalidArgument("loss scaling: '" + name + "' is on " + g.device() + ", which has no scale");
    if (device.empty()) device = g.device();
    Tensor norm = g.Abs().Sum();
    total = total.node() ? total.Add(norm.To(device)) : norm;
    p->SetGrad(g.Mul(b->inv_scale));
  }
  if (!total.node()) return Tensor::Full({}, 1, DType::kBool);
  return total.Lt(std::numeric_limits<double>::infinity());
}

Status LossScaler::Prepare() {
  for (auto& [device, b] : buffers_) {
    PB_RETURN_IF_ERROR(WriteScalar(b.scale, scale_));
    PB_RETURN_IF_ERROR(WriteScalar(b.inv_scale, 1.0 / scale_));
  }
  return Status::Ok();
}

void LossScaler::Update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
    ++skipped_;
    ++consecutive_skips_;
    return;
  }
  consecutive_skips_ = 0;
  if (++good_steps_ < options_.growth_interval) return;
  good_steps_ = 0;
  if (scale_ * options_.growth_factor <= FLT_MAX) scale_ *= options_.growth_factor;
}

}  // namespace petabox::nn
