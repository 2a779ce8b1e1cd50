// The model zoo: names, shapes, an end-to-end overfit of one batch (forward, autograd,
// Adam) and save -> load -> identical outputs.
#include "engine/nn/models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/nn/optim/adam.h"
#include "engine/nn/state_dict.h"
#include "tests/engine/nn/nn_test_util.h"

namespace petabox::nn {
namespace {

using nntest::Host;
using nntest::TempDir;

std::unique_ptr<Module> Make(const std::string& name, uint64_t seed) {
  Rng rng(seed);
  StatusOr<std::unique_ptr<Module>> m = MakeModel(name, rng);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

TEST(ModelZooTest, UnknownNameListsKnownModels) {
  Rng rng(0);
  StatusOr<std::unique_ptr<Module>> m = MakeModel("resnet9000", rng);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("resnet9000"), std::string::npos);
  EXPECT_NE(m.status().message().find("known models: cnn, mlp, resnet50, resnet8, resnet8-rgb"), std::string::npos) << m.status().message();
  EXPECT_EQ(ModelNames(), (std::vector<std::string>{"cnn", "mlp", "resnet50", "resnet8", "resnet8-rgb"}));
}

TEST(ModelZooTest, Resnet8RgbTakesColourImagesOfAnySize) {
  std::unique_ptr<Module> m = Make("resnet8-rgb", 3);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->NamedParameters()[0].second->shape(), (Shape{16, 3, 3, 3}));
  for (int64_t size : {32, 48}) {
    Tensor logits = m->Forward(Tensor::Randn({2, 3, size, size}, 4));
    EXPECT_EQ(logits.shape(), (Shape{2, 10}));
  }
  EXPECT_EQ(*ModelClasses("resnet8-rgb"), 10);
  EXPECT_EQ(*ModelClasses("resnet50"), 1000);
  EXPECT_FALSE(ModelClasses("nope").ok());
  EXPECT_EQ(*ModelSampleShape("resnet8-rgb"), (std::vector<int64_t>{3, 32, 32}));
}

TEST(ModelZooTest, ParameterShapesAndOutputShape) {
  struct Want {
    const char* model;
    std::vector<std::pair<std::string, Shape>> params;
  };
  std::vector<Want> wants = {
      {"mlp", {{"1.weight", {512, 784}}, {"1.bias", {512}}, {"3.weight", {10, 512}}, {"3.bias", {10}}}},
      {"cnn",
       {{"0.weight", {32, 1, 5, 5}},
        {"0.bias", {32}},
        {"3.weight", {64, 32, 5, 5}},
        {"3.bias", {64}},
        {"7.weight", {1024, 3136}},
        {"7.bias", {1024}},
        {"9.weight", {10, 1024}},
        {"9.bias", {10}}}},
  };
  Tensor x = Tensor::Randn({2, 1, 28, 28}, 1);
  for (const Want& w : wants) {
    std::unique_ptr<Module> m = Make(w.model, 1);
    ASSERT_NE(m, nullptr);
    std::vector<std::pair<std::string, Shape>> got;
    for (auto& [name, t] : m->NamedParameters()) got.emplace_back(name, t->shape());
    EXPECT_EQ(got, w.params) << w.model;
    Tensor y = (*m)(x);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y.shape(), (Shape{2, 10})) << w.model;
    for (double v : Host(y)) ASSERT_TRUE(std::isfinite(v)) << w.model;
  }
}

// Needs autograd (Tensor::Backward).
TEST(ModelZooTest, MlpOverfitsOneBatchWithAdam) {
  std::unique_ptr<Module> m = Make("mlp", 2);
  Tensor x = Tensor::Randn({16, 1, 28, 28}, 3);
  std::vector<float> labels;
  for (int i = 0; i < 16; ++i) labels.push_back(static_cast<float>((i * 7) % 10));
  Tensor y = Tensor::FromVector(labels, {16}, DType::kInt32);
  Adam opt(m->NamedParameters(), {.lr = 1e-3});
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.ZeroGrad();
    Tensor loss = (*m)(x).CrossEntropy(y);
    // Read the loss before the update: its graph reads the parameters' buffers.
    StatusOr<double> value = loss.Item();
    ASSERT_TRUE(value.ok()) << value.status().ToString();
    Status s = loss.Backward();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE((s = opt.Step()).ok()) << s.ToString();
    (step == 0 ? first : last) = *value;
  }
  EXPECT_NEAR(first, std::log(10.0), 0.7) << "an untrained model is near chance";
  EXPECT_LT(last, 0.05) << "first loss " << first;
}

TEST(ModelZooTest, SaveThenLoadGivesIdenticalOutputs) {
  std::unique_ptr<Module> a = Make("cnn", 4), b = Make("cnn", 5);
  Tensor x = Tensor::Randn({1, 1, 28, 28}, 6);
  std::vector<double> want = Host((*a)(x));
  ASSERT_NE(Host((*b)(x)), want);
  TempDir dir;
  std::string path = dir.File("cnn.safetensors");
  ASSERT_TRUE(SaveStateDict(*a, path).ok());
  Status s = LoadStateDict(*b, path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Host((*b)(x)), want);
}

}  // namespace
}  // namespace petabox::nn
