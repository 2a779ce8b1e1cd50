// TrainStep: the jitted step against the same step built eagerly every time (losses and
// weights over several steps, with a fresh batch per step), learning on one batch, replays
// running only the captured kernels, and the errors a caller can cause.
#include "engine/nn/train_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/exec_stats.h"
#include "engine/nn/layers.h"
#include "engine/nn/optim/adam.h"
#include "tests/engine/nn/nn_test_util.h"

namespace petabox::nn {
namespace {

using nntest::Host;

constexpr int64_t kBatch = 8, kClasses = 4;

// Small models on (N, 1, 4, 4) inputs with kClasses outputs, initialised from `seed`.
std::unique_ptr<Module> SmallMlp(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<Sequential>();
  m->Emplace<Flatten>();
  m->Emplace<Linear>(16, 12, rng);
  m->Emplace<ReLU>();
  m->Emplace<Linear>(12, kClasses, rng);
  return m;
}

std::unique_ptr<Module> SmallCnn(uint64_t seed) {
  Rng rng(seed);
  auto m = std::make_unique<Sequential>();
  m->Emplace<Conv2d>(1, 3, 3, rng, Conv2dOptions{.padding = 1});
  m->Emplace<ReLU>();
  m->Emplace<MaxPool2d>(2);
  m->Emplace<Flatten>();
  m->Emplace<Linear>(12, kClasses, rng);
  return m;
}

Tensor Images(uint64_t seed) { return Tensor::Randn({kBatch, 1, 4, 4}, seed); }

Tensor Labels(uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(kBatch);
  for (float& x : v) x = static_cast<float>(rng.NextU64() % kClasses);
  return Tensor::FromVector(v, {kBatch}, DType::kInt32);
}

// A model, its Adam optimizer and a TrainStep over them.
struct Trainer {
  Trainer(std::unique_ptr<Module> m, TrainStepOptions options, double lr = 1e-2)
      : model(std::move(m)), opt(model->NamedParameters(), AdamOptions{.lr = lr}), step(*model, opt, options) {}
  std::unique_ptr<Module> model;
  Adam opt;
  TrainStep step;
};

void ExpectJitMatchesEager(std::unique_ptr<Module> (*make)(uint64_t), double label_smoothing) {
  Trainer eager(make(7), {.label_smoothing = label_smoothing, .use_jit = false});
  Trainer jitted(make(7), {.label_smoothing = label_smoothing, .use_jit = true});
  for (int64_t s = 0; s < 5; ++s) {
    Tensor x = Images(100 + s), y = Labels(200 + s);
    StatusOr<double> le = eager.step.Run(x, y, s);
    StatusOr<double> lj = jitted.step.Run(x, y, s);
    ASSERT_TRUE(le.ok()) << le.status().ToString();
    ASSERT_TRUE(lj.ok()) << lj.status().ToString();
    EXPECT_TRUE(std::isfinite(*le));
    EXPECT_NEAR(*lj, *le, 1e-5 * (1 + std::fabs(*le))) << "step " << s;
    EXPECT_EQ(jitted.opt.step(), s + 1);
    EXPECT_EQ(eager.opt.step(), s + 1);
  }
  EXPECT_TRUE(jitted.step.captured());
  EXPECT_FALSE(eager.step.captured());
  NamedTensorPtrs pe = eager.model->NamedParameters(), pj = jitted.model->NamedParameters();
  ASSERT_EQ(pe.size(), pj.size());
  for (size_t i = 0; i < pe.size(); ++i) {
    nntest::ExpectNear(Host(*pj[i].second), Host(*pe[i].second), 1e-6, 1e-5, pe[i].first);
    EXPECT_FALSE(pj[i].second->grad().ok()) << pj[i].first << ": gradient left after the step";
  }
}

TEST(TrainStepTest, JitMatchesEagerMlp) { ExpectJitMatchesEager(SmallMlp, 0); }

TEST(TrainStepTest, JitMatchesEagerCnnWithLabelSmoothing) { ExpectJitMatchesEager(SmallCnn, 0.1); }

TEST(TrainStepTest, LossDecreasesWhenOverfittingOneBatch) {
  Trainer t(SmallMlp(3), {});
  Tensor x = Images(1), y = Labels(2);
  std::vector<double> losses;
  for (int64_t s = 0; s < 30; ++s) {
    StatusOr<double> loss = t.step.Run(x, y, s);
    ASSERT_TRUE(loss.ok()) << loss.status().ToString();
    losses.push_back(*loss);
  }
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << "first " << losses.front() << ", last " << losses.back();
  EXPECT_LT(losses.back(), losses[2]) << "replayed steps must keep learning";
}

TEST(TrainStepTest, ReplayRunsOnlyTheCapturedKernels) {
  Trainer t(SmallMlp(4), {});
  for (int64_t s = 0; s < 2; ++s) ASSERT_TRUE(t.step.Run(Images(s), Labels(s), s).ok());
  ASSERT_TRUE(t.step.captured());
  int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(t.step.Run(Images(9), Labels(9), 2).ok());
  EXPECT_EQ(GetExecTotals().kernels - before, static_cast<int64_t>(t.step.captured_ops()));
  EXPECT_GT(t.step.captured_ops(), 0u);
}

TEST(TrainStepTest, NegativeStepIsAnError) {
  Trainer t(SmallMlp(5), {});
  StatusOr<double> r = t.step.Run(Images(1), Labels(1), -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(TrainStepTest, BatchShapeChangeAfterCaptureIsAnError) {
  Trainer t(SmallMlp(6), {});
  for (int64_t s = 0; s < 2; ++s) ASSERT_TRUE(t.step.Run(Images(s), Labels(s), s).ok());
  StatusOr<double> r = t.step.Run(Tensor::Randn({4, 1, 4, 4}, 1), Tensor::Zeros({4}, DType::kInt32), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(TrainStepTest, ModelShapeErrorIsReturnedAndClearsGradients) {
  for (bool use_jit : {false, true}) {
    Trainer t(SmallMlp(8), {.use_jit = use_jit});
    StatusOr<double> r = t.step.Run(Tensor::Randn({kBatch, 1, 5, 5}, 1), Labels(1), 0);  // 25 features, not 16
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    // The step still works with the right input afterwards.
    StatusOr<double> ok = t.step.Run(Images(1), Labels(1), 0);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_TRUE(std::isfinite(*ok));
  }
}

}  // namespace
}  // namespace petabox::nn
