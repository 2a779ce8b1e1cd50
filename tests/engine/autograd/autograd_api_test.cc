// The autograd API: Backward() accumulation into grad() of every leaf that requires grad,
// ZeroGrad/SetGrad, the errors Backward and RequiresGrad report, NoGradGuard, Gradients()
// (seeds, tensors outside the graph), shared subexpressions, and backward through
// intermediates that were realized before the backward pass.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/tensor.h"
#include "tests/engine/autograd/grad_check.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference

// A float32 leaf that requires grad, holding `a`.
Tensor Leaf(const HostArray& a) {
  Tensor t = ToTensor(a);
  t.RequiresGrad();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t;
}

HostArray Scaled(const HostArray& a, double k) {
  return Map(a, [k](double v) { return k * v; });
}

// ---------------------------------------------------------------- Backward / grad()

TEST(AutogradApiTest, BackwardReachesEveryLeafAndAccumulates) {
  HostArray a = RandomHost({3}), b = RandomHost({3});
  Tensor ta = Leaf(a), tb = Leaf(b);
  Tensor c = ToTensor(RandomHost({3}));  // does not require grad
  EXPECT_TRUE(ta.requires_grad());
  EXPECT_FALSE(c.requires_grad());
  EXPECT_EQ(ta.grad().node(), nullptr) << "no gradient before the first Backward";
  Tensor loss = (ta * tb + c).Sum();
  ASSERT_TRUE(loss.Backward().ok());
  ExpectClose(ta.grad(), b);
  ExpectClose(tb.grad(), a);
  EXPECT_EQ(c.grad().node(), nullptr);
  // A second Backward adds the same gradient again.
  ASSERT_TRUE(loss.Backward().ok());
  ExpectClose(ta.grad(), Scaled(b, 2));
  ExpectClose(tb.grad(), Scaled(a, 2));
}

TEST(AutogradApiTest, CopiesShareTheGradient) {
  HostArray a = RandomHost({4});
  Tensor t = Leaf(a);
  Tensor copy = t;
  ASSERT_TRUE(copy.Mul(3.0).Sum().Backward().ok());
  ExpectClose(t.grad(), HostArray::Filled({4}, 3));
  EXPECT_TRUE(copy.requires_grad());
}

TEST(AutogradApiTest, ZeroGradThenBackwardStartsOver) {
  HostArray a = RandomHost({2, 2});
  Tensor t = Leaf(a);
  Tensor loss = t.Exp().Sum();
  ASSERT_TRUE(loss.Backward().ok());
  ASSERT_TRUE(loss.Backward().ok());
  t.ZeroGrad();
  EXPECT_EQ(t.grad().node(), nullptr);
  ASSERT_TRUE(loss.Backward().ok());
  ExpectClose(t.grad(), Map(a, [](double v) { return std::exp(v); }));
}

TEST(AutogradApiTest, SetGradIsAccumulatedOnto) {
  HostArray a = RandomHost({3});
  Tensor t = Leaf(a);
  t.SetGrad(Tensor::Full({3}, 10.0));
  ASSERT_TRUE(t.Mul(2.0).Sum().Backward().ok());
  ExpectClose(t.grad(), HostArray::Filled({3}, 12));
}

// RequiresGrad(false) stops a leaf from collecting gradients.
TEST(AutogradApiTest, RequiresGradFalseExcludesLeaf) {
  Tensor a = Leaf(RandomHost({3})), b = Leaf(RandomHost({3}));
  b.RequiresGrad(false);
  EXPECT_FALSE(b.requires_grad());
  ASSERT_TRUE((a * b).Sum().Backward().ok());
  EXPECT_NE(a.grad().node(), nullptr);
  EXPECT_EQ(b.grad().node(), nullptr);
}

// RequiresGrad on a lazy (unrealized) tensor realizes it into a leaf of its own.
TEST(AutogradApiTest, RequiresGradOnLazyTensor) {
  HostArray a = RandomHost({2, 3});
  Tensor t = ToTensor(a).Exp().Transpose();
  t.RequiresGrad();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t.Mul(2.0).Sum().Backward().ok());
  ExpectClose(t.grad(), HostArray::Filled({3, 2}, 2));
}

// ---------------------------------------------------------------- errors

TEST(AutogradApiTest, BackwardOnNonScalarIsInvalidArgument) {
  Tensor t = Leaf(RandomHost({2, 3}));
  Status s = t.Exp().Backward();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("(2, 3)"), std::string::npos) << s.ToString();
  EXPECT_EQ(t.grad().node(), nullptr);
}

TEST(AutogradApiTest, BackwardWithoutLeafIsAnError) {
  Tensor t = ToTensor(RandomHost({3}));
  Status s = t.Exp().Sum().Backward();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TEST(AutogradApiTest, BackwardOnErrorTensorReturnsItsError) {
  Tensor a = Leaf(RandomHost({2, 3})), b = Leaf(RandomHost({4, 5}));
  Status s = (a + b).Sum().Backward();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TEST(AutogradApiTest, RequiresGradOnIntTensorIsAnError) {
  Tensor t = Tensor::FromVector({1, 2, 3}, {3}, DType::kInt32);
  t.RequiresGrad();
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << t.status().ToString();
  EXPECT_FALSE(t.requires_grad());
}

TEST(AutogradApiTest, GradientsSeedShapeMismatch) {
  Tensor t = Leaf(RandomHost({3}));
  auto g = Gradients(t.Exp(), {t}, Tensor::Ones({4}));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << g.status().ToString();
}

// ---------------------------------------------------------------- NoGradGuard, detach

TEST(AutogradApiTest, NoGradGuardDetaches) {
  HostArray a = RandomHost({3});
  Tensor t = Leaf(a);
  Tensor inside;
  {
    NoGradGuard guard;
    EXPECT_TRUE(NoGradGuard::Active());
    inside = t.Exp().Mul(2.0);
  }
  EXPECT_FALSE(NoGradGuard::Active());
  // Values are unchanged; only the gradient is cut.
  ExpectClose(inside, Map(a, [](double v) { return 2 * std::exp(v); }));
  Status s = inside.Sum().Backward();
  EXPECT_FALSE(s.ok()) << "a tensor built under NoGradGuard must not reach the leaf";
  EXPECT_EQ(t.grad().node(), nullptr);
  // Mixed: only the part built outside the guard carries gradient.
  ASSERT_TRUE((inside * t).Sum().Backward().ok());
  ExpectClose(t.grad(), Map(a, [](double v) { return 2 * std::exp(v); }));
}

TEST(AutogradApiTest, NoGradGuardNests) {
  {
    NoGradGuard outer;
    {
      NoGradGuard inner;
      EXPECT_TRUE(NoGradGuard::Active());
    }
    EXPECT_TRUE(NoGradGuard::Active());
  }
  EXPECT_FALSE(NoGradGuard::Active());
}

TEST(AutogradApiTest, BackwardThroughDetachOnlyIsAnError) {
  Tensor t = Leaf(RandomHost({3}));
  EXPECT_FALSE(t.Detach().Sum().Backward().ok());
  EXPECT_EQ(t.grad().node(), nullptr);
}

// ---------------------------------------------------------------- Gradients()

TEST(AutogradApiTest, GradientsOfTensorNotInGraphAreZeros) {
  Tensor a = Leaf(RandomHost({3})), unrelated = ToTensor(RandomHost({2, 2}));
  auto g = Gradients(a.Exp().Sum(), {unrelated, a});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].shape(), (Shape{2, 2}));
  ExpectClose((*g)[0], HostArray::Filled({2, 2}, 0));
}

// Gradients() of a non-scalar uses the seed as the output gradient (a vector-Jacobian product),
// and works for any tensor, leaf or not, without touching grad().
TEST(AutogradApiTest, GradientsWithSeedAndIntermediate) {
  HostArray a = RandomHost({2, 3}), seed = RandomHost({2, 3});
  Tensor t = ToTensor(a);
  Tensor h = t.Mul(3.0);
  auto g = Gradients(h.Exp(), {h, t}, ToTensor(seed));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  HostArray dh = Zip(a, seed, [](double v, double s) { return std::exp(3 * v) * s; });
  ExpectClose((*g)[0], dh, 1e-4, 1e-4);
  ExpectClose((*g)[1], Scaled(dh, 3), 1e-4, 1e-4);
  EXPECT_EQ(t.grad().node(), nullptr);
}

// ---------------------------------------------------------------- graph structure

TEST(AutogradApiTest, SameLeafTwiceSumsBothPaths) {
  HostArray a = RandomHost({4});
  Tensor t = Leaf(a);
  ASSERT_TRUE((t * t + t.Sin() + t).Sum().Backward().ok());
  ExpectClose(t.grad(), Map(a, [](double v) { return 2 * v + std::cos(v) + 1; }));
}

// A subexpression used by two consumers (a diamond) gets the sum of their gradients.
TEST(AutogradApiTest, SharedSubexpressionDiamond) {
  HostArray a = RandomHost({3});
  Tensor t = Leaf(a);
  Tensor h = t.Exp();
  ASSERT_TRUE((h * h + h.Mul(2.0)).Sum().Backward().ok());
  ExpectClose(t.grad(), Map(a, [](double v) { return (2 * std::exp(v) + 2) * std::exp(v); }));
}

// The forward graph is built, part of it realized (as a training step that logs an
// activation would), then the loss is built on top and differentiated.
TEST(AutogradApiTest, BackwardThroughRealizedIntermediate) {
  HostArray a = RandomHost({2, 3}), r = RandomHost({2, 3});
  Tensor t = Leaf(a);
  Tensor h = t.Exp();
  ASSERT_TRUE(h.Realize().ok());
  Tensor loss = (h * ToTensor(r)).Sum();
  Status s = loss.Backward();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectClose(t.grad(), Zip(a, r, [](double v, double w) { return std::exp(v) * w; }));
}

// The loss is built first and an intermediate is realized afterwards.
TEST(AutogradApiTest, BackwardAfterRealizingPartOfBuiltGraph) {
  HostArray a = RandomHost({2, 3}), r = RandomHost({2, 3});
  Tensor t = Leaf(a);
  Tensor h = t.Exp();
  Tensor loss = (h * ToTensor(r)).Sum();
  ASSERT_TRUE(h.Realize().ok());
  Status s = loss.Backward();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectClose(t.grad(), Zip(a, r, [](double v, double w) { return std::exp(v) * w; }));
}

// Reading the loss (to log it) and then differentiating it.
TEST(AutogradApiTest, BackwardAfterReadingLoss) {
  HostArray a = RandomHost({2, 3});
  Tensor t = Leaf(a);
  Tensor loss = t.Exp().Sum();
  ASSERT_TRUE(loss.Item().ok());
  Status s = loss.Backward();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectClose(t.grad(), Map(a, [](double v) { return std::exp(v); }));
}

// Realizing the loss itself, then differentiating it.
TEST(AutogradApiTest, BackwardAfterRealizingLoss) {
  HostArray a = RandomHost({2, 3});
  Tensor t = Leaf(a);
  Tensor loss = t.Exp().Sum();
  ASSERT_TRUE(loss.Realize().ok());
  Status s = loss.Backward();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectClose(t.grad(), Map(a, [](double v) { return std::exp(v); }));
}

// Gradients are lazy tensors: they can be differentiated again (second derivative).
TEST(AutogradApiTest, SecondDerivative) {
  HostArray a = RandomHost({4});
  Tensor t = ToTensor(a);
  auto g1 = Gradients(t.Sin().Sum(), {t});
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();
  auto g2 = Gradients((*g1)[0].Sum(), {t});
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  ExpectClose((*g2)[0], Map(a, [](double v) { return -std::sin(v); }), 1e-5, 1e-4);
}

// A parameter update with the gradient (SGD step), then a second step's gradient at the
// new value: the leaf's buffer is reused and the gradient follows the new value.
TEST(AutogradApiTest, GradientAfterAssignUpdate) {
  HostArray a = RandomHost({3});
  Tensor t = Leaf(a);
  ASSERT_TRUE(t.Pow(2).Sum().Backward().ok());
  Tensor updated = t - t.grad() * 0.25;  // x - 0.25 * 2x = 0.5x
  {
    NoGradGuard guard;
    t.Assign(updated.Detach());
  }
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  t.ZeroGrad();
  ASSERT_TRUE(t.Pow(2).Sum().Backward().ok());
  ExpectClose(t.grad(), Map(a, [](double v) { return v; }));  // 2 * 0.5x
}

}  // namespace
}  // namespace petabox

namespace petabox {
namespace {

TEST(AutogradApiTest, ReadingValuesUnderNoGradWorks) {
  Tensor w = Tensor::Randn({3, 4}, 31).RequiresGrad();
  NoGradGuard guard;
  Tensor hits = w.Argmax(1).Eq(0.0).Cast(DType::kFloat32).Sum();
  ASSERT_TRUE(RealizeAll({&hits}).ok());
  auto v = hits.Item();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_GE(*v, 0.0);
  EXPECT_LE(*v, 3.0);
}

TEST(AutogradApiTest, RequiresGradOnATensorDerivedFromALeafMakesANewLeaf) {
  Tensor w = Tensor::Randn({4}, 32).RequiresGrad();
  Tensor m = (w * 2.0).Contiguous();
  ASSERT_TRUE(m.Realize().ok());
  m.RequiresGrad();
  ASSERT_EQ(m.node()->op, Op::kBuffer);
  Tensor loss = (m * 3.0).Sum();
  ASSERT_TRUE(loss.Backward().ok());
  auto g = m.grad().ToFloats();
  ASSERT_TRUE(g.ok());
  for (float x : *g) EXPECT_FLOAT_EQ(x, 3.0f);
  EXPECT_FALSE(w.grad().node());  // the old leaf is not reached through the new one
}

}  // namespace
}  // namespace petabox
