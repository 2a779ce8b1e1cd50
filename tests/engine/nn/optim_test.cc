// Optimizers against naive host implementations of the same update rules (3 steps on random
// parameters and gradients set with SetGrad, so autograd is not involved), LARS's handling
// of 1-D parameters, learning-rate schedules, per-step learning rates and optimizer state.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/jit.h"
#include "engine/nn/optim/adam.h"
#include "engine/nn/optim/lars.h"
#include "engine/nn/optim/lr_schedule.h"
#include "engine/nn/optim/sgd.h"
#include "tests/engine/nn/nn_test_util.h"

namespace petabox::nn {
namespace {

using nntest::Host;
using Vec = std::vector<double>;

Vec RandomVec(size_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  Vec v(n);
  for (double& x : v) x = static_cast<float>(d(gen));  // exactly representable in float32
  return v;
}

Tensor ToTensor(const Vec& v, const Shape& shape) {
  return Tensor::FromVector(std::vector<float>(v.begin(), v.end()), shape);
}

// Parameters "w" (3, 4) and "b" (4,), their host copies, and the optimizer under test.
struct Fixture {
  Shape shapes[2] = {{3, 4}, {4}};
  Tensor w = ToTensor(RandomVec(12, 1), {3, 4}).RequiresGrad();
  Tensor b = ToTensor(RandomVec(4, 2), {4}).RequiresGrad();
  std::vector<Vec> host = {Host(w), Host(b)};
  NamedTensorPtrs params() { return {{"w", &w}, {"b", &b}}; }
};

// A host update rule: (param index, param, grad, step) -> updates param in place.
using HostRule = std::function<void(size_t, Vec&, const Vec&, int64_t)>;

// Runs 3 steps of `opt` and of `rule` with the same random gradients and compares.
void RunAndCompare(Fixture& f, Optimizer& opt, const HostRule& rule) {
  for (int64_t step = 0; step < 3; ++step) {
    Tensor* ps[2] = {&f.w, &f.b};
    for (size_t i = 0; i < 2; ++i) {
      Vec g = RandomVec(f.host[i].size(), 100 + 10 * step + i, -2, 2);
      ps[i]->SetGrad(ToTensor(g, f.shapes[i]));
      rule(i, f.host[i], g, step);
    }
    Status s = opt.Step();
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(opt.step(), step + 1);
    nntest::ExpectNear(Host(f.w), f.host[0], 1e-5, 1e-4, "w after step " + std::to_string(step));
    nntest::ExpectNear(Host(f.b), f.host[1], 1e-5, 1e-4, "b after step " + std::to_string(step));
    ASSERT_TRUE(f.w.requires_grad() && f.b.requires_grad()) << "updated in place, still parameters";
    opt.ZeroGrad();
  }
}

// torch.optim.SGD, written out.
HostRule SgdRule(double lr, double momentum, double wd, bool nesterov) {
  auto bufs = std::make_shared<std::vector<Vec>>(2);
  return [=](size_t i, Vec& p, const Vec& grad, int64_t) {
    Vec& buf = (*bufs)[i];
    if (buf.empty()) buf.assign(p.size(), 0.0);
    for (size_t k = 0; k < p.size(); ++k) {
      double g = grad[k] + wd * p[k];
      if (momentum != 0) {
        buf[k] = momentum * buf[k] + g;
        g = nesterov ? g + momentum * buf[k] : buf[k];
      }
      p[k] -= lr * g;
    }
  };
}

TEST(OptimSgdTest, MatchesHostReference) {
  struct Case {
    double momentum, wd;
    bool nesterov;
  };
  for (Case c : {Case{0, 0, false}, Case{0.9, 0, false}, Case{0.9, 0.01, true}}) {
    SCOPED_TRACE("momentum " + std::to_string(c.momentum) + " nesterov " + std::to_string(c.nesterov));
    Fixture f;
    Sgd opt(f.params(), {.lr = 0.1, .momentum = c.momentum, .weight_decay = c.wd, .nesterov = c.nesterov});
    RunAndCompare(f, opt, SgdRule(0.1, c.momentum, c.wd, c.nesterov));
  }
}

// torch.optim.Adam / AdamW, written out.
HostRule AdamRule(double lr, double b1, double b2, double eps, double wd, bool decoupled) {
  auto state = std::make_shared<std::vector<std::pair<Vec, Vec>>>(2);
  return [=](size_t i, Vec& p, const Vec& grad, int64_t step) {
    auto& [m, v] = (*state)[i];
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0);
    double t = static_cast<double>(step + 1);
    double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    for (size_t k = 0; k < p.size(); ++k) {
      double g = grad[k];
      if (decoupled)
        p[k] *= 1 - lr * wd;
      else
        g += wd * p[k];
      m[k] = b1 * m[k] + (1 - b1) * g;
      v[k] = b2 * v[k] + (1 - b2) * g * g;
      p[k] -= lr / bc1 * m[k] / (std::sqrt(v[k]) / std::sqrt(bc2) + eps);
    }
  };
}

TEST(OptimAdamTest, AdamMatchesHostReference) {
  Fixture f;
  Adam opt(f.params(), {.lr = 0.01, .weight_decay = 0.1});
  RunAndCompare(f, opt, AdamRule(0.01, 0.9, 0.999, 1e-8, 0.1, false));
}

TEST(OptimAdamTest, AdamWMatchesHostReference) {
  Fixture f;
  AdamW opt(f.params(), {.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1});
  RunAndCompare(f, opt, AdamRule(0.01, 0.8, 0.99, 1e-6, 0.1, true));
}

// MLPerf LARS, written out; 1-D parameters skip the trust ratio and the weight decay.
HostRule LarsRule(double lr, double momentum, double wd, double eta) {
  auto bufs = std::make_shared<std::vector<Vec>>(2);
  return [=](size_t i, Vec& p, const Vec& grad, int64_t) {
    Vec& buf = (*bufs)[i];
    if (buf.empty()) buf.assign(p.size(), 0.0);
    bool adapt = i == 0;  // "w" is 2-D, "b" is 1-D
    double wn = 0, gn = 0;
    for (size_t k = 0; k < p.size(); ++k) wn += p[k] * p[k], gn += grad[k] * grad[k];
    wn = std::sqrt(wn), gn = std::sqrt(gn);
    double trust = adapt && wn > 0 && gn > 0 ? eta * wn / (gn + wd * wn) : 1.0;
    for (size_t k = 0; k < p.size(); ++k) {
      double g = adapt ? grad[k] + wd * p[k] : grad[k];
      buf[k] = momentum * buf[k] + lr * trust * g;
      p[k] -= buf[k];
    }
  };
}

TEST(OptimLarsTest, MatchesHostReferenceAndSkipsOneDimParams) {
  Fixture f;
  Lars opt(f.params(), {.lr = 2.0, .momentum = 0.9, .weight_decay = 0.05, .eta = 0.01});
  RunAndCompare(f, opt, LarsRule(2.0, 0.9, 0.05, 0.01));
  // The 1-D rule is plain momentum SGD with no weight decay: check against that directly.
  Fixture g;
  Lars lars(g.params(), {.lr = 0.5, .momentum = 0.9, .weight_decay = 0.1});
  HostRule sgd = SgdRule(0.5, 0.9, 0, false), lars_rule = LarsRule(0.5, 0.9, 0.1, 0.001);
  RunAndCompare(g, lars,
                [&](size_t i, Vec& p, const Vec& grad, int64_t s) { (i == 1 ? sgd : lars_rule)(i, p, grad, s); });
}

TEST(OptimLarsTest, ZeroWeightsUseTrustRatioOne) {
  Tensor w = Tensor::Zeros({2, 2}).Contiguous();
  w.RequiresGrad();
  Lars opt({{"w", &w}}, {.lr = 0.1, .momentum = 0, .weight_decay = 0});
  w.SetGrad(Tensor::FromVector({1, 2, 3, 4}, {2, 2}));
  ASSERT_TRUE(opt.Step().ok());
  nntest::ExpectNear(Host(w), {-0.1, -0.2, -0.3, -0.4}, 1e-6, 1e-5, "w");
}

// ---------------------------------------------------------------- schedules, per-step lr

TEST(OptimScheduleTest, ValuesAtChosenSteps) {
  LrSchedule poly = WarmupPolynomialDecay(10, 5, 15, 0.1, 2);
  EXPECT_DOUBLE_EQ(poly(0), 2);
  EXPECT_DOUBLE_EQ(poly(4), 10);
  EXPECT_DOUBLE_EQ(poly(5), 10);
  EXPECT_DOUBLE_EQ(poly(10), 0.1 + 9.9 * 0.25);
  EXPECT_DOUBLE_EQ(poly(15), 0.1);
  EXPECT_DOUBLE_EQ(poly(1000), 0.1);
  LrSchedule cosine = WarmupCosineDecay(1, 2, 12, 0);
  EXPECT_DOUBLE_EQ(cosine(0), 0.5);
  EXPECT_DOUBLE_EQ(cosine(2), 1);
  EXPECT_NEAR(cosine(7), 0.5, 1e-12);
  EXPECT_NEAR(cosine(12), 0, 1e-12);
  EXPECT_DOUBLE_EQ(ConstantLr(0.3)(12345), 0.3);
  EXPECT_DOUBLE_EQ(WarmupPolynomialDecay(1, 0, 10)(0), 1) << "no warmup";
}

TEST(OptimStepTest, ScheduleSetsEachStepsLearningRate) {
  Fixture f;
  Sgd opt(f.params(), {.lr = 123});  // overridden by the schedule
  LrSchedule schedule = [](int64_t step) { return 0.1 * static_cast<double>(step + 1); };
  opt.SetSchedule(schedule);
  RunAndCompare(f, opt, [&](size_t, Vec& p, const Vec& g, int64_t step) {
    for (size_t k = 0; k < p.size(); ++k) p[k] -= schedule(step) * g[k];
  });
  EXPECT_DOUBLE_EQ(opt.learning_rate(), 0.3);
  // PrepareStep jumps to any step; SetLearningRate applies from the next step.
  ASSERT_TRUE(opt.PrepareStep(9).ok());
  EXPECT_DOUBLE_EQ(opt.learning_rate(), 1.0);
  EXPECT_EQ(opt.step(), 9);
  EXPECT_FALSE(opt.PrepareStep(-1).ok());
}

TEST(OptimStepTest, SkipsParamsWithoutGradAndRejectsBadGrads) {
  Fixture f;
  Sgd opt(f.params(), {.lr = 1});
  f.w.SetGrad(Tensor::Ones({3, 4}));
  ASSERT_TRUE(opt.Step().ok());
  nntest::ExpectNear(Host(f.b), f.host[1], 0, 0, "b has no grad: unchanged");
  Vec w = f.host[0];
  for (double& x : w) x -= 1;
  nntest::ExpectNear(Host(f.w), w, 1e-6, 1e-6, "w");
  f.b.SetGrad(Tensor::Ones({5}));
  Status s = opt.Step();
  ASSERT_FALSE(s.ok());
  for (const char* part : {"'b'", "(5,)", "(4,)"}) EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

// A JIT-captured step replayed with new gradients must use each step's learning rate and
// bias corrections (device scalars written by PrepareStep), not values baked in at capture.
TEST(OptimJitTest, ReplayedStepsUseEachStepsScalars) {
  Fixture eager, jitted;
  LrSchedule schedule = [](int64_t step) { return 0.01 * static_cast<double>(step + 1); };
  Adam opt_e(eager.params(), {.lr = 0, .weight_decay = 0.1, .decoupled_weight_decay = true});
  Adam opt_j(jitted.params(), {.lr = 0, .weight_decay = 0.1, .decoupled_weight_decay = true});
  opt_e.SetSchedule(schedule);
  opt_j.SetSchedule(schedule);
  Jit jit([&](const std::vector<Tensor>& in) -> StatusOr<std::vector<Tensor>> {
    jitted.w.SetGrad(in[0]);
    jitted.b.SetGrad(in[1]);
    PB_RETURN_IF_ERROR(opt_j.Step());
    return std::vector<Tensor>{};
  });
  for (int64_t step = 0; step < 5; ++step) {
    Tensor gw = ToTensor(RandomVec(12, 50 + step, -2, 2), {3, 4}), gb = ToTensor(RandomVec(4, 60 + step, -2, 2), {4});
    ASSERT_TRUE(opt_j.PrepareStep(step).ok());
    StatusOr<std::vector<Tensor>> r = jit.Run({gw, gb});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    eager.w.SetGrad(gw);
    eager.b.SetGrad(gb);
    ASSERT_TRUE(opt_e.Step().ok());
    nntest::ExpectNear(Host(jitted.w), Host(eager.w), 1e-6, 1e-5, "w after step " + std::to_string(step));
    nntest::ExpectNear(Host(jitted.b), Host(eager.b), 1e-6, 1e-5, "b after step " + std::to_string(step));
  }
  EXPECT_TRUE(jit.captured());
}

// ---------------------------------------------------------------- state

TEST(OptimStateTest, SaveAndRestoreContinuesIdentically) {
  Fixture a;
  Adam opt_a(a.params(), {.lr = 0.01});
  std::vector<std::string> names;
  for (auto& [name, t] : opt_a.NamedState()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"step", "exp_avg.w", "exp_avg.b", "exp_avg_sq.w", "exp_avg_sq.b"}));
  auto grads = [](int64_t step) {
    return std::vector<Tensor>{ToTensor(RandomVec(12, 7 + step), {3, 4}), ToTensor(RandomVec(4, 9 + step), {4})};
  };
  for (int64_t s = 0; s < 2; ++s) {
    a.w.SetGrad(grads(s)[0]);
    a.b.SetGrad(grads(s)[1]);
    ASSERT_TRUE(opt_a.Step().ok());
  }
  NamedTensors saved;
  for (auto& [name, t] : opt_a.NamedState()) saved.emplace_back(name, *t);
  EXPECT_EQ(Host(saved[0].second), std::vector<double>{2}) << "step count";
  StatusOr<TensorFile> file = ParseTensors(*SerializeTensors(saved));  // through the file format
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  Fixture b;
  ASSERT_TRUE(AssignInPlace(&b.w, a.w).ok() && AssignInPlace(&b.b, a.b).ok());
  Adam opt_b(b.params(), {.lr = 0.01});
  Status s = opt_b.LoadState(file->tensors, "opt.safetensors");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(opt_b.step(), 2);
  for (Fixture* f : {&a, &b}) {
    f->w.SetGrad(grads(2)[0]);
    f->b.SetGrad(grads(2)[1]);
  }
  ASSERT_TRUE(opt_a.Step().ok());
  ASSERT_TRUE(opt_b.Step().ok());
  EXPECT_EQ(Host(a.w), Host(b.w));
  EXPECT_EQ(Host(a.b), Host(b.b));
  file->tensors.pop_back();
  s = opt_b.LoadState(file->tensors, "opt.safetensors");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing keys: exp_avg_sq.b"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace petabox::nn
