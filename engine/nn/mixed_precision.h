// Mixed-precision training: the precision a training step runs in, the check that a device
// can do it, and float16's dynamic loss scaling (as torch.cuda.amp.GradScaler).
//
// Semantics (as PyTorch's autocast with float32 master weights): parameters and optimizer
// state stay float32; the forward pass and the loss are built under an AutocastGuard
// (engine/autocast.h), so matmuls and convolutions cast the parameters and activations to
// the 16-bit type per step and accumulate in float32, while BatchNorm statistics, softmax,
// the loss and means run in float32; gradients reach the float32 parameters through the
// casts' backward. A model's code does not change: TrainStepOptions::precision and
// DataParallelOptions::precision choose it.
//
// float16's narrow range needs loss scaling: the loss is multiplied by a scale before the
// backward pass and the gradients divided by it before the update; a step whose gradients
// hold an inf or NaN is skipped (parameters and optimizer state keep their values) and the
// scale lowered. The decision is taken in the step's graph (Optimizer::SetUpdateCondition)
// and the scale read from a device buffer, so a JIT-replayed step skips and rescales as an
// eager one does. bfloat16 has float32's range and needs no scaling.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/nn/optim/optimizer.h"
#include "engine/tensor.h"

namespace petabox::nn {

enum class Precision { kFloat32, kBFloat16, kFloat16 };

// "float32", "bfloat16" or "float16"; InvalidArgument naming the unknown value otherwise.
StatusOr<Precision> ParsePrecision(std::string_view name);
const char* PrecisionName(Precision precision);
// The type matmuls and convolutions take in `precision` (kFloat32 for float32).
DType ComputeDType(Precision precision);
// OK when `device` (a registry name) can train in `precision`; FailedPrecondition naming
// the device and the capability it lacks (DeviceCapabilities::stores_float16 /
// stores_bfloat16) otherwise; the lookup's error for an unknown device.
Status CheckPrecisionSupported(Precision precision, const std::string& device);
// The same for a device's properties (callers that look devices up themselves).
Status CheckPrecisionSupported(Precision precision, const DeviceProperties& device);

struct LossScalerOptions {
  // The first scale (GradScaler's init_scale, 2^16).
  double initial_scale = 65536.0;
  // The scale is multiplied by this after growth_interval steps in a row without overflow.
  double growth_factor = 2.0;
  int64_t growth_interval = 2000;
  // ... and by this after a step whose gradients overflowed.
  double backoff_factor = 0.5;
};

// Dynamic loss scaling for the steps of one model (and its data-parallel replicas).
// Thread-compatible: the thread driving the training step calls everything.
class LossScaler {
 public:
  // Scale buffers on each of `devices` (canonical names, those holding the parameters).
  // InvalidArgument for options out of range (scale <= 0, growth <= 1, backoff not in
  // (0, 1), interval < 1); device allocation errors.
  static StatusOr<std::unique_ptr<LossScaler>> Create(const std::vector<std::string>& devices,
                                                      LossScalerOptions options = {});

  // ---- while a step's graph is built
  // loss * scale, on the loss's device (which must be one of the scaler's).
  Tensor Scale(const Tensor& loss) const;
  // Divides the gradient of each of `optimizer`'s parameters by the scale (SetGrad) and
  // returns whether all of them are finite: a lazy bool 0-d tensor on the first
  // parameter's device, for Optimizer::SetUpdateCondition. Errors: a gradient's error, a
  // parameter on a device the scaler has no buffer on.
  StatusOr<Tensor> UnscaleGradients(Optimizer& optimizer) const;

  // ---- between steps, on the host
  // Writes the current scale into the device buffers; call before each step.
  Status Prepare();
  // GradScaler's update after a step: not `finite` multiplies the scale by backoff_factor
  // and counts a skipped step; the growth_interval-th finite step in a row multiplies it by
  // growth_factor (unless float32 could not hold the result).
  void Update(bool finite);

  double scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }
  // Skipped steps since the last step that was applied.
  int64_t consecutive_skips() const { return consecutive_skips_; }

 private:
  struct Buffers {
    Tensor scale, inv_scale;  // float32, 0-d
  };
  LossScaler(LossScalerOptions options, std::map<std::string, Buffers> buffers);
  const Buffers* On(const std::string& device) const;

  LossScalerOptions options_;
  std::map<std::string, Buffers> buffers_;  // by device
  double scale_;
  int64_t good_steps_ = 0;
  int64_t skipped_ = 0;
  int64_t consecutive_skips_ = 0;
};

}  // namespace petabox::nn
