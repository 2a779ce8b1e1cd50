// Kernel counts: fusion happens where the design says, and boundaries where it must.
#include "engine/schedule/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/exec_stats.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

// Kernels run to realize t (its inputs realized first, so they do not count).
int64_t KernelsFor(Tensor t) {
  int64_t before = GetExecTotals().kernels;
  Status s = t.Realize();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return GetExecTotals().kernels - before;
}

Tensor Input(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::Rand(shape, seed);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

TEST(ScheduleTest, MulAddSumIsOneKernel) {
  Tensor a = Input({37, 19}, 1), b = Input({37, 19}, 2), c = Input({37, 19}, 3);
  EXPECT_EQ(KernelsFor((a * b + c).Sum()), 1);
}

TEST(ScheduleTest, TenElementwiseOpsAreOneKernel) {
  Tensor x = Input({101}, 4);
  Tensor y = x;
  for (int i = 0; i < 10; ++i) y = (i % 2 ? y * 1.5 : y + 0.25).Relu();
  EXPECT_EQ(KernelsFor(y.Exp().Sqrt()), 1);
}

TEST(ScheduleTest, LinearReluIsAtMostTwoKernels) {
  Tensor x = Input({16, 32}, 5), w = Input({32, 8}, 6), b = Input({8}, 7);
  EXPECT_LE(KernelsFor((x.Matmul(w) + b).Relu()), 2);
}

TEST(ScheduleTest, MovementOpsAloneRunNoKernel) {
  Tensor x = Input({4, 6}, 8);
  EXPECT_EQ(KernelsFor(x.Transpose().Reshape({2, 12}).Shrink({{0, 2}, {1, 9}})), 0);
}

TEST(ScheduleTest, ReduceThenBroadcastIsTwoKernels) {
  Tensor x = Input({8, 33}, 9);
  // mean over an axis, broadcast back: the reduce must be realized before the subtraction.
  EXPECT_EQ(KernelsFor(x - x.Mean({1}, true)), 2);
}

TEST(ScheduleTest, PadOfUnsafeOpIsABoundary) {
  Tensor x = Input({5}, 10);
  // exp(0) = 1 != 0: the padded region must be 0, so exp is computed first.
  Tensor y = x.Exp().Pad({{2, 2}});
  EXPECT_EQ(KernelsFor(y.Contiguous()), 2);
  auto v = y.ToFloats();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0], 0.0f);
  EXPECT_EQ((*v)[8], 0.0f);
  // A pad of a safe op (0 + 0 = 0) fuses.
  EXPECT_EQ(KernelsFor((x + x).Pad({{1, 1}}).Contiguous()), 1);
}

TEST(ScheduleTest, SharedSubgraphComputedOnce) {
  Tensor x = Input({64}, 11);
  Tensor s = x.Sum();
  Tensor a = s + 1, b = s * 2;
  int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(RealizeAll({&a, &b}).ok());
  EXPECT_EQ(GetExecTotals().kernels - before, 3);  // the sum, then a and b
}

TEST(ScheduleTest, AssignWritesInPlace) {
  Tensor w = Input({10}, 12);
  auto before = w.ToFloats();
  const void* data = w.node()->buffer()->data();
  w.Assign(w * 2.0 + 1.0);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w.node()->buffer()->data(), data);
  auto after = w.ToFloats();
  for (int i = 0; i < 10; ++i) EXPECT_FLOAT_EQ((*after)[i], (*before)[i] * 2 + 1);
}

TEST(ScheduleTest, AssignFromOwnTransposeUsesATemporary) {
  Tensor w = Input({3, 3}, 13);
  auto before = w.ToFloats();
  w.Assign(w.Transpose());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto after = w.ToFloats();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_FLOAT_EQ((*after)[i * 3 + j], (*before)[j * 3 + i]);
}

TEST(ScheduleTest, CopyBetweenVirtualDevices) {
  Tensor x = Tensor::FromVector({1, 2, 3}, {3}, DType::kFloat32, "CPU:0");
  Tensor y = (x.To("CPU:1") * 2.0).To("CPU:0");
  auto v = y.ToFloats();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (std::vector<float>{2, 4, 6}));
}

}  // namespace
}  // namespace petabox

namespace petabox {
namespace {

TEST(ScheduleTest, ReadingABufferOverwrittenAfterTheGraphWasBuiltIsAnError) {
  Tensor w = Tensor::Rand({4}, 21);
  ASSERT_TRUE(w.Realize().ok());
  Tensor stale = w * 2.0;  // built on w's current contents
  w.Assign(w + 1.0);
  ASSERT_TRUE(w.ok());
  Status s = stale.Realize();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE((w * 2.0).Realize().ok());  // a graph built after the update is fine
}

}  // namespace
}  // namespace petabox

namespace petabox {
namespace {

TEST(ScheduleTest, BigReduceWithFewOutputsSplitsInTwoKernels) {
  const int64_t n = 100003;  // not a multiple of the group count: the pad must be neutral
  std::vector<float> host(n);
  Rng rng(41);
  for (float& v : host) v = rng.Uniform() * 2 - 3;  // all negative: a zero pad would win a max
  Tensor x = Tensor::FromVector(host, {n});
  double sum = 0, max = -1e30;
  for (float v : host) { sum += v; max = std::max<double>(max, v); }
  Tensor s = x.Sum(), m = x.Max();
  EXPECT_EQ(KernelsFor(s), 2);
  EXPECT_NEAR(*s.Item(), sum, std::fabs(sum) * 1e-5);
  EXPECT_FLOAT_EQ(static_cast<float>(*m.Item()), static_cast<float>(max));
  Tensor rows = Tensor::FromVector(host, {1, n}).Sum({1}, true);
  EXPECT_EQ(rows.shape(), (Shape{1, 1}));
  EXPECT_NEAR(*rows.Item(), sum, std::fabs(sum) * 1e-5);
}

}  // namespace
}  // namespace petabox

namespace petabox {
namespace {

TEST(ScheduleTest, ARealizedConstantIsReadWithoutRecomputing) {
  Tensor t = Tensor::Full({3, 5}, 2.5);
  int64_t first = GetExecTotals().kernels;
  ASSERT_TRUE(t.Realize().ok());
  EXPECT_EQ(GetExecTotals().kernels - first, 1);  // materialized once
  EXPECT_EQ(t.node()->op, Op::kBuffer);
  int64_t before = GetExecTotals().kernels;
  auto v = t.ToFloats();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(GetExecTotals().kernels, before);
  EXPECT_EQ(*v, std::vector<float>(15, 2.5f));
}

}  // namespace
}  // namespace petabox
