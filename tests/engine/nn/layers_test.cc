// nn layers and Module: naming and modes, forward against the naive reference
// (tests/engine/tensor/reference.h), BatchNorm statistics, Dropout, initialisation
// statistics, and errors.
#include "engine/nn/layers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/init.h"
#include "engine/nn/module.h"
#include "tests/engine/nn/nn_test_util.h"
#include "tests/engine/tensor/reference.h"

namespace petabox::nn {
namespace {

using namespace testref;  // NOLINT: test-local reference
using nntest::Host;
using nntest::HostOf;

std::vector<std::string> Names(const NamedTensorPtrs& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// A module with named children, as a user model would be written.
class TwoLayer : public Module {
 public:
  explicit TwoLayer(Rng& rng) : fc1_(4, 8, rng), bn_(8), fc2_(8, 2, rng, /*bias=*/false) {
    RegisterModule("fc1", &fc1_);
    RegisterModule("bn", &bn_);
    RegisterModule("fc2", &fc2_);
  }
  Tensor Forward(const Tensor& x) override {
    Tensor h = fc1_(x).Reshape({x.shape()[0], 8, 1, 1});
    return fc2_(bn_(h).Reshape({x.shape()[0], 8}).Relu());
  }

 private:
  Linear fc1_;
  BatchNorm2d bn_;
  Linear fc2_;
};

// ---------------------------------------------------------------- Module

TEST(NnModuleTest, NamesFollowRegistrationOrder) {
  Rng rng(1);
  TwoLayer m(rng);
  EXPECT_EQ(Names(m.NamedParameters()),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight"}));
  EXPECT_EQ(Names(m.NamedState()), (std::vector<std::string>{"fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                                                             "bn.running_mean", "bn.running_var", "fc2.weight"}));
  Sequential seq;
  seq.Emplace<Conv2d>(3, 4, 3, rng);
  seq.Emplace<ReLU>();
  seq.Emplace<BatchNorm2d>(4);
  EXPECT_EQ(Names(seq.NamedState()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var"}));
  for (auto& [name, t] : seq.NamedParameters()) EXPECT_TRUE(t->requires_grad()) << name;
  for (auto& [name, t] : seq.NamedState())
    if (name.find("running") != std::string::npos) EXPECT_FALSE(t->requires_grad()) << name;
}

TEST(NnModuleTest, TrainAndEvalPropagateToChildren) {
  Rng rng(2);
  TwoLayer m(rng);
  EXPECT_TRUE(m.training());
  m.Eval();
  for (auto& [name, child] : m.children()) EXPECT_FALSE(child->training()) << name;
  m.Train();
  for (auto& [name, child] : m.children()) EXPECT_TRUE(child->training()) << name;
  Sequential seq;
  seq.Eval();
  Dropout& d = seq.Emplace<Dropout>(0.5);
  EXPECT_FALSE(d.training()) << "a layer added to a module in eval mode starts in eval mode";
}

// ---------------------------------------------------------------- forward vs reference

TEST(LayerLinearTest, ForwardMatchesReference) {
  Rng rng(3);
  for (bool bias : {true, false}) {
    Linear fc(5, 3, rng, bias);
    HostArray x = RandomHost({2, 4, 5});
    HostArray want = Matmul(x, Transpose(HostOf(fc.weight())));
    if (bias) want = Zip(want, HostOf(fc.bias()), [](double a, double b) { return a + b; });
    ExpectClose(fc(ToTensor(x)), want);
  }
}

struct ConvCase {
  const char* name;
  int64_t cin, cout, k;
  Conv2dOptions options;
};

class LayerConv2dTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(LayerConv2dTest, ForwardMatchesReference) {
  const ConvCase& c = GetParam();
  Rng rng(4);
  Conv2d conv(c.cin, c.cout, c.k, rng, c.options);
  HostArray x = RandomHost({2, c.cin, 7, 6});
  Conv2dParams p{c.options.stride,   c.options.stride,   c.options.padding, c.options.padding,
                 c.options.dilation, c.options.dilation, c.options.groups};
  HostArray b = c.options.bias ? HostOf(conv.bias()) : HostArray{};
  ExpectClose(conv(ToTensor(x)), testref::Conv2d(x, HostOf(conv.weight()), c.options.bias ? &b : nullptr, p));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LayerConv2dTest,
    ::testing::Values(ConvCase{"Plain3x3", 3, 4, 3, {}},
                      ConvCase{"Stride2Pad1NoBias", 3, 4, 3, {.stride = 2, .padding = 1, .bias = false}},
                      ConvCase{"Groups2Dilation2", 4, 6, 3, {.padding = 2, .dilation = 2, .groups = 2}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(LayerPoolTest, PoolsFlattenReluMatchReference) {
  HostArray x = RandomHost({2, 3, 6, 5});
  ExpectClose(MaxPool2d(2)(ToTensor(x)), Pool2d(x, true, {2, 2}, {2, 2}, {0, 0}));
  ExpectClose(MaxPool2d(3, 2, 1)(ToTensor(x)), Pool2d(x, true, {3, 3}, {2, 2}, {1, 1}));
  ExpectClose(AvgPool2d(2, 1)(ToTensor(x)), Pool2d(x, false, {2, 2}, {1, 1}, {0, 0}));
  ExpectClose(Flatten()(ToTensor(x)), Reshape(x, {2, 90}));
  ExpectClose(ReLU()(ToTensor(x)), Map(x, [](double v) { return v > 0 ? v : 0; }));
}

TEST(LayerSequentialTest, AppliesLayersInOrder) {
  Rng rng(5);
  Sequential seq;
  Linear& fc = seq.Emplace<Linear>(6, 3, rng);
  seq.Emplace<ReLU>();
  HostArray x = RandomHost({4, 6});
  HostArray lin =
      Zip(Matmul(x, Transpose(HostOf(fc.weight()))), HostOf(fc.bias()), [](double a, double b) { return a + b; });
  ExpectClose(seq(ToTensor(x)), Map(lin, [](double v) { return v > 0 ? v : 0; }));
  EXPECT_EQ(seq.size(), 2u);
}

// ---------------------------------------------------------------- BatchNorm

// Naive per-channel statistics of x (N, C, H, W).
struct ChannelStats {
  std::vector<double> mean, var_biased, var_unbiased;
};
ChannelStats Stats(const HostArray& x) {
  int64_t n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3], cnt = n * hw;
  ChannelStats s{std::vector<double>(c), std::vector<double>(c), std::vector<double>(c)};
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) sum += x.data[(i * c + ch) * hw + j];
    s.mean[ch] = sum / cnt;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) sq += std::pow(x.data[(i * c + ch) * hw + j] - s.mean[ch], 2);
    s.var_biased[ch] = sq / cnt;
    s.var_unbiased[ch] = sq / (cnt - 1);
  }
  return s;
}

HostArray Normalize(const HostArray& x, const std::vector<double>& mean, const std::vector<double>& var,
                    const std::vector<double>& w, const std::vector<double>& b, double eps) {
  return Generate(x.shape, [&](const Index& i) {
    int64_t ch = i[1];
    return (x.At(i) - mean[ch]) / std::sqrt(var[ch] + eps) * w[ch] + b[ch];
  });
}

TEST(LayerBatchNormTest, TrainAndEvalMatchNaiveComputation) {
  const double eps = 1e-5, momentum = 0.1;
  BatchNorm2d bn(3, eps, momentum);
  HostArray w = RandomHost({3}, 0.5, 2), b = RandomHost({3});
  ASSERT_TRUE(AssignInPlace(&bn.weight(), ToTensor(w)).ok());
  ASSERT_TRUE(AssignInPlace(&bn.bias(), ToTensor(b)).ok());
  ASSERT_TRUE(bn.weight().requires_grad()) << "an in-place assign keeps the parameter";
  std::vector<double> rm(3, 0.0), rv(3, 1.0);
  for (int step = 0; step < 2; ++step) {
    HostArray x = RandomHost({4, 3, 3, 2}, -1, 3);
    ChannelStats s = Stats(x);
    ExpectClose(bn(ToTensor(x)), Normalize(x, s.mean, s.var_biased, w.data, b.data, eps), 1e-4, 1e-4);
    for (int c = 0; c < 3; ++c) {
      rm[c] = (1 - momentum) * rm[c] + momentum * s.mean[c];
      rv[c] = (1 - momentum) * rv[c] + momentum * s.var_unbiased[c];
    }
    nntest::ExpectNear(Host(bn.running_mean()), rm, 1e-5, 1e-5, "running_mean");
    nntest::ExpectNear(Host(bn.running_var()), rv, 1e-5, 1e-5, "running_var");
  }
  bn.Eval();
  HostArray x = RandomHost({2, 3, 2, 2});
  ExpectClose(bn(ToTensor(x)), Normalize(x, rm, rv, w.data, b.data, eps), 1e-4, 1e-4);
  nntest::ExpectNear(Host(bn.running_mean()), rm, 1e-5, 1e-5, "running_mean is unchanged in eval mode");
}

TEST(LayerBatchNormTest, Errors) {
  BatchNorm2d bn(3);
  Tensor y = bn(Tensor::Zeros({2, 4, 2, 2}));
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("(2, 4, 2, 2)"), std::string::npos) << y.status().ToString();
  EXPECT_FALSE(bn(Tensor::Zeros({1, 3, 1, 1})).ok()) << "one value per channel has no variance";
  EXPECT_FALSE(BatchNorm2d(0)(Tensor::Zeros({2, 1, 2, 2})).ok());
}

// ---------------------------------------------------------------- Dropout

TEST(LayerDropoutTest, TrainMasksAndScalesEvalIsIdentity) {
  const double p = 0.25;
  Dropout d(p, /*seed=*/7);
  Tensor x = Tensor::Full({64, 64}, 2.0);
  std::vector<double> y = Host(d(x));
  int kept = 0;
  for (double v : y) {
    ASSERT_TRUE(v == 0 || std::fabs(v - 2.0 / (1 - p)) < 1e-5) << v;
    kept += v != 0;
  }
  double frac = kept / static_cast<double>(y.size());
  EXPECT_NEAR(frac, 1 - p, 0.03);
  EXPECT_NE(Host(d(x)), y) << "the mask changes from call to call";
  Dropout same(p, 7);
  EXPECT_EQ(Host(same(x)), y) << "the same seed gives the same mask";
  d.Eval();
  EXPECT_EQ(Host(d(x)), Host(x));
  EXPECT_EQ(Host(Dropout(0.0)(x)), Host(x));
  EXPECT_FALSE(Dropout(1.5)(x).ok());
}

// ---------------------------------------------------------------- initialisation

struct Moments {
  double mean, std, max_abs;
};
Moments MomentsOf(const Tensor& t) {
  std::vector<double> v = Host(t);
  double sum = 0, sq = 0, mx = 0;
  for (double x : v) sum += x, mx = std::max(mx, std::fabs(x));
  double mean = sum / v.size();
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / v.size()), mx};
}

TEST(LayerInitTest, DefaultIsUniformOverSqrtFanIn) {
  Rng rng(8);
  Linear fc(400, 100, rng);  // fan_in 400: bound 0.05
  Moments w = MomentsOf(fc.weight());
  EXPECT_LE(w.max_abs, 0.05);
  EXPECT_NEAR(w.mean, 0, 0.002);
  EXPECT_NEAR(w.std, 0.05 / std::sqrt(3.0), 0.001);  // U(-b, b) has std b/sqrt(3)
  Moments b = MomentsOf(fc.bias());
  EXPECT_LE(b.max_abs, 0.05);
  Conv2d conv(16, 32, 3, rng);  // fan_in 16*9
  Moments cw = MomentsOf(conv.weight());
  EXPECT_LE(cw.max_abs, 1 / 12.0);
  EXPECT_NEAR(cw.std, 1 / 12.0 / std::sqrt(3.0), 0.002);
  BatchNorm2d bn(5);
  EXPECT_EQ(Host(bn.weight()), std::vector<double>(5, 1.0));
  EXPECT_EQ(Host(bn.bias()), std::vector<double>(5, 0.0));
  EXPECT_EQ(Host(bn.running_var()), std::vector<double>(5, 1.0));
}

TEST(LayerInitTest, KaimingNormalFanInAndFanOut) {
  Rng rng(9);
  Conv2d out_mode(16, 64, 3, rng, {.bias = false, .init = Init::kKaimingNormalFanOut});  // fan_out 64*9
  Moments o = MomentsOf(out_mode.weight());
  EXPECT_NEAR(o.mean, 0, 0.003);
  EXPECT_NEAR(o.std, std::sqrt(2.0 / (64 * 9)), 0.003);
  Linear in_mode(200, 100, rng, true, Init::kKaimingNormalFanIn);
  EXPECT_NEAR(MomentsOf(in_mode.weight()).std, std::sqrt(2.0 / 200), 0.003);
  EXPECT_EQ(ComputeFans({64, 16, 3, 3}).in, 144);
  EXPECT_EQ(ComputeFans({64, 16, 3, 3}).out, 576);
  Rng a(10), b(10);
  EXPECT_EQ(Host(Linear(3, 2, a).weight()), Host(Linear(3, 2, b).weight())) << "same seed, same weights";
}

// ---------------------------------------------------------------- errors

TEST(LayerErrorTest, BadInputsAndConfigurationsAreStatuses) {
  Rng rng(11);
  Linear fc(5, 3, rng);
  Tensor y = fc(Tensor::Zeros({2, 4}));
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("(2, 4)"), std::string::npos) << y.status().ToString();
  Conv2d bad(3, 4, 3, rng, {.groups = 2});
  Tensor c = bad(Tensor::Zeros({1, 3, 5, 5}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("groups=2"), std::string::npos) << c.status().ToString();
  Conv2d conv(3, 4, 3, rng);
  EXPECT_FALSE(conv(Tensor::Zeros({1, 2, 5, 5})).ok());
  EXPECT_FALSE(Linear(0, 3, rng)(Tensor::Zeros({1, 0})).ok());
}

}  // namespace
}  // namespace petabox::nn
