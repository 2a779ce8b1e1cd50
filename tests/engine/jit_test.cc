#include "engine/jit.h"

#include <gtest/gtest.h>

#include "engine/exec_stats.h"

namespace petabox {
namespace {

// One SGD step of a linear model with an MSE loss; returns the loss.
StatusOr<std::vector<Tensor>> SgdStep(Tensor& w, Tensor& b, const std::vector<Tensor>& in) {
  Tensor loss = (in[0].Matmul(w) + b - in[1]).Pow(2).Mean();
  PB_RETURN_IF_ERROR(loss.Backward());
  // Everything that reads w and b is computed before either is overwritten.
  Tensor gw = w.grad(), gb = b.grad();
  PB_RETURN_IF_ERROR(RealizeAll({&loss, &gw, &gb}));
  w.Assign(w - gw * 0.1);
  b.Assign(b - gb * 0.1);
  w.ZeroGrad();
  b.ZeroGrad();
  if (!w.ok()) return w.status();
  if (!b.ok()) return b.status();
  return std::vector<Tensor>{loss};
}

struct Model {
  Tensor w = Tensor::Randn({6, 3}, 1).RequiresGrad();
  Tensor b = Tensor::Randn({3}, 2).RequiresGrad();
};

TEST(JitTest, ReplayMatchesEagerSteps) {
  Model eager, jitted;
  Jit jit([&](const std::vector<Tensor>& in) { return SgdStep(jitted.w, jitted.b, in); });
  for (int step = 0; step < 6; ++step) {
    std::vector<Tensor> batch{Tensor::Randn({8, 6}, 100 + step), Tensor::Randn({8, 3}, 200 + step)};
    auto e = SgdStep(eager.w, eager.b, batch);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto j = jit.Run(batch);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_NEAR(*(*j)[0].Item(), *(*e)[0].Item(), 1e-5) << "step " << step;
  }
  EXPECT_TRUE(jit.captured());
  auto we = *eager.w.ToFloats(), wj = *jitted.w.ToFloats();
  for (size_t i = 0; i < we.size(); ++i) EXPECT_NEAR(wj[i], we[i], 1e-5);
}

TEST(JitTest, ReplayRunsOnlyTheCapturedKernels) {
  Model m;
  Jit jit([&](const std::vector<Tensor>& in) { return SgdStep(m.w, m.b, in); });
  for (int step = 0; step < 2; ++step)
    ASSERT_TRUE(jit.Run({Tensor::Randn({8, 6}, step), Tensor::Randn({8, 3}, 9 + step)}).ok());
  int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(jit.Run({Tensor::Randn({8, 6}, 5), Tensor::Randn({8, 3}, 6)}).ok());
  EXPECT_EQ(GetExecTotals().kernels - before, static_cast<int64_t>(jit.captured_ops()));
  EXPECT_GT(jit.captured_ops(), 0u);
}

TEST(JitTest, ShapeChangeAfterCaptureIsAnError) {
  Model m;
  Jit jit([&](const std::vector<Tensor>& in) { return SgdStep(m.w, m.b, in); });
  for (int step = 0; step < 2; ++step) ASSERT_TRUE(jit.Run({Tensor::Randn({8, 6}, 1), Tensor::Randn({8, 3}, 2)}).ok());
  auto r = jit.Run({Tensor::Randn({4, 6}, 1), Tensor::Randn({4, 3}, 2)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("(4, 6)"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace petabox
