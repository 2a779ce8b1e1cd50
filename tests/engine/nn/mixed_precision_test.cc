// Mixed precision: precision names, the device check (a capability, tested on a device
// without it), GradScaler's update rule, a float16 step whose gradients overflow (skipped,
// nothing changed, scale lowered, training going on, also in JIT replays), and 16-bit
// training steps that stay close to float32 ones with float32 master weights.
#include "engine/nn/mixed_precision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/data_parallel.h"
#include "engine/nn/layers.h"
#include "engine/nn/optim/sgd.h"
#include "engine/nn/train_step.h"
#include "tests/engine/nn/nn_test_util.h"
#include "tests/engine/test_devices.h"

namespace petabox::nn {
namespace {

using nntest::Host;

constexpr int64_t kBatch = 8, kClasses = 4;

std::unique_ptr<Module> SmallMlp(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<Sequential>();
  m->Emplace<Flatten>();
  m->Emplace<Linear>(16, 12, rng);
  m->Emplace<ReLU>();
  m->Emplace<Linear>(12, kClasses, rng);
  return m;
}

// Conv, BatchNorm (float32 statistics under autocast), pooling and a linear head.
std::unique_ptr<Module> SmallBnCnn(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<Sequential>();
  m->Emplace<Conv2d>(1, 4, 3, rng, Conv2dOptions{.padding = 1, .bias = false});
  m->Emplace<BatchNorm2d>(4);
  m->Emplace<ReLU>();
  m->Emplace<MaxPool2d>(2);
  m->Emplace<Flatten>();
  m->Emplace<Linear>(16, kClasses, rng);
  return m;
}

Tensor Images(uint64_t seed, const std::string& device = "") {
  Tensor x = Tensor::Randn({kBatch, 1, 4, 4}, seed);
  return device.empty() ? x : x.To(device);
}

Tensor Labels(uint64_t seed, const std::string& device = "") {
  Rng rng(seed);
  std::vector<float> v(kBatch);
  for (float& x : v) x = static_cast<float>(rng.NextU64() % kClasses);
  return Tensor::FromVector(v, {kBatch}, DType::kInt32, device);
}

// A model, SGD with momentum (so there is optimizer state to leave unchanged) and a step.
struct Trainer {
  Trainer(std::unique_ptr<Module> m, TrainStepOptions options)
      : model(std::move(m)), opt(model->NamedParameters(), SgdOptions{.lr = 0.05, .momentum = 0.9}),
        step(*model, opt, options) {}
  // Parameters and optimizer state, flattened.
  std::vector<double> State() {
    std::vector<double> all;
    for (auto& [name, t] : model->NamedParameters()) {
      std::vector<double> v = Host(*t);
      all.insert(all.end(), v.begin(), v.end());
    }
    for (auto& [name, t] : opt.NamedState()) {
      if (name == "step") continue;
      std::vector<double> v = Host(*t);
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  }
  std::unique_ptr<Module> model;
  Sgd opt;
  TrainStep step;
};

TEST(MixedPrecisionTest, PrecisionNames) {
  for (Precision p : {Precision::kFloat32, Precision::kBFloat16, Precision::kFloat16}) {
    StatusOr<Precision> parsed = ParsePrecision(PrecisionName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ComputeDType(Precision::kBFloat16), DType::kBFloat16);
  EXPECT_EQ(ComputeDType(Precision::kFloat16), DType::kFloat16);
  StatusOr<Precision> bad = ParsePrecision("fp8");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "precision: unknown precision 'fp8' (expected float32, bfloat16 or float16)");
}

TEST(MixedPrecisionTest, DeviceWithoutTheCapabilityIsRefusedByName) {
  CapabilityDevices devices;
  DeviceCapabilities no_half;
  no_half.loops_over_chunks = true;
  no_half.stores_float16 = false;
  devices.Add("NOHALF:0", no_half);
  ScopedDeviceSource scope(&devices);
  EXPECT_TRUE(CheckPrecisionSupported(Precision::kFloat32, "NOHALF:0").ok());
  EXPECT_TRUE(CheckPrecisionSupported(Precision::kBFloat16, "NOHALF:0").ok());
  Status s = CheckPrecisionSupported(Precision::kFloat16, "NOHALF:0");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("device NOHALF:0 cannot train in it"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("float16"), std::string::npos) << s.message();

  std::unique_ptr<Module> model = SmallMlp(1);
  ASSERT_TRUE(MoveToDevice(*model, "NOHALF:0").ok());
  Sgd opt(model->NamedParameters(), SgdOptions{});
  TrainStep step(*model, opt, {.precision = Precision::kFloat16});
  StatusOr<double> r = step.Run(Images(1, "NOHALF:0"), Labels(1, "NOHALF:0"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("NOHALF:0"), std::string::npos) << r.status().message();
  StatusOr<std::unique_ptr<DataParallelStep>> dp =
      DataParallelStep::Create({model.get()}, {&opt}, {.precision = Precision::kFloat16});
  ASSERT_FALSE(dp.ok());
  EXPECT_NE(dp.status().message().find("NOHALF:0"), std::string::npos) << dp.status().message();
}

TEST(MixedPrecisionTest, ScaleGrowsAfterIntervalAndBacksOffOnOverflow) {
  StatusOr<std::unique_ptr<LossScaler>> made =
      LossScaler::Create({"CPU:0"}, {.initial_scale = 8, .growth_factor = 2, .growth_interval = 3, .backoff_factor = 0.5});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  LossScaler& s = **made;
  s.Update(true);
  s.Update(true);
  EXPECT_EQ(s.scale(), 8);
  s.Update(true);  // the third good step in a row
  EXPECT_EQ(s.scale(), 16);
  s.Update(true);
  s.Update(false);  // an overflow resets the count of good steps
  EXPECT_EQ(s.scale(), 8);
  EXPECT_EQ(s.skipped_steps(), 1);
  EXPECT_EQ(s.consecutive_skips(), 1);
  s.Update(false);
  EXPECT_EQ(s.consecutive_skips(), 2);
  s.Update(true);
  s.Update(true);
  EXPECT_EQ(s.scale(), 4);
  EXPECT_EQ(s.consecutive_skips(), 0);
  s.Update(true);
  EXPECT_EQ(s.scale(), 8);
  EXPECT_EQ(s.skipped_steps(), 2);
  EXPECT_FALSE(LossScaler::Create({"CPU:0"}, {.backoff_factor = 1.5}).ok());
  EXPECT_FALSE(LossScaler::Create({"CPU:0"}, {.initial_scale = 0}).ok());
}

TEST(MixedPrecisionTest, DefaultsAreGradScalers) {
  LossScalerOptions o;
  EXPECT_EQ(o.initial_scale, 65536.0);
  EXPECT_EQ(o.growth_factor, 2.0);
  EXPECT_EQ(o.growth_interval, 2000);
  EXPECT_EQ(o.backoff_factor, 0.5);
}

// A scale of 2^30 makes the float16 output gradients (about scale / batch) overflow
// float16's 65504 where they are stored, while float32 holds them: the steps are skipped,
// with parameters and momentum unchanged, until the halved scale fits; then training goes on.
TEST(MixedPrecisionTest, Float16OverflowSkipsTheStepAndLowersTheScale) {
  Trainer t(SmallMlp(3), {.precision = Precision::kFloat16, .loss_scaling = {.initial_scale = std::ldexp(1.0, 30)}});
  Tensor x = Images(1), y = Labels(2);
  const std::vector<double> before = t.State();
  StatusOr<double> first = t.step.Run(x, y, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(std::isfinite(*first)) << "the loss itself is float32";
  EXPECT_TRUE(t.step.last_step_skipped());
  EXPECT_EQ(t.step.loss_scale(), std::ldexp(1.0, 29));
  EXPECT_EQ(t.State(), before) << "a skipped step must leave parameters and optimizer state unchanged";
  std::vector<double> losses = {*first};
  int64_t s = 1;
  for (; s < 40 && t.step.last_step_skipped(); ++s) {
    std::vector<double> prev = t.State();
    StatusOr<double> loss = t.step.Run(x, y, s);
    ASSERT_TRUE(loss.ok()) << loss.status().ToString();
    if (t.step.last_step_skipped()) EXPECT_EQ(t.State(), prev) << "step " << s;
  }
  ASSERT_FALSE(t.step.last_step_skipped()) << "the scale never came down to a finite step";
  EXPECT_GE(t.step.skipped_steps(), 3) << "replayed (JIT) steps must skip too";
  EXPECT_TRUE(t.step.captured());
  EXPECT_NE(t.State(), before);
  const double scale_when_fit = t.step.loss_scale();
  for (int64_t k = 0; k < 20; ++k, ++s) {
    StatusOr<double> loss = t.step.Run(x, y, s);
    ASSERT_TRUE(loss.ok()) << loss.status().ToString();
    losses.push_back(*loss);
  }
  EXPECT_EQ(t.step.loss_scale(), scale_when_fit) << "no further overflow at the lowered scale";
  EXPECT_LT(losses.back(), 0.7 * losses.front()) << "training must go on after the skipped steps";
}

// 16-bit steps (eager and replayed) track float32 steps; the parameters stay float32.
TEST(MixedPrecisionTest, SixteenBitStepsTrackFloat32WithFloat32MasterWeights) {
  for (auto make : {SmallMlp, SmallBnCnn})
  for (Precision p : {Precision::kBFloat16, Precision::kFloat16}) {
    SCOPED_TRACE(std::string(PrecisionName(p)) + (make == SmallMlp ? " mlp" : " bn-cnn"));
    Trainer full(make(9), {});
    Trainer mixed(make(9), {.precision = p});
    for (int64_t s = 0; s < 6; ++s) {
      StatusOr<double> lf = full.step.Run(Images(10 + s), Labels(20 + s), s);
      StatusOr<double> lm = mixed.step.Run(Images(10 + s), Labels(20 + s), s);
      ASSERT_TRUE(lf.ok() && lm.ok()) << lf.status().ToString() << lm.status().ToString();
      EXPECT_NEAR(*lm, *lf, 0.03 * (1 + std::fabs(*lf))) << "step " << s;
      EXPECT_FALSE(mixed.step.last_step_skipped());
    }
    EXPECT_EQ(mixed.step.loss_scale(), p == Precision::kFloat16 ? 65536.0 : 1.0);
    NamedTensorPtrs pf = full.model->NamedState(), pm = mixed.model->NamedState();  // with BatchNorm's statistics
    for (size_t i = 0; i < pf.size(); ++i) {
      EXPECT_EQ(pm[i].second->dtype(), DType::kFloat32) << pm[i].first;
      nntest::ExpectNear(Host(*pm[i].second), Host(*pf[i].second), 2e-2, 2e-2, pm[i].first);
    }
  }
}

}  // namespace
}  // namespace petabox::nn
