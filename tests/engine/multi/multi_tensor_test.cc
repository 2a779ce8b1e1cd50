// MultiTensor semantics on the virtual CPU devices: every op on a sharded or replicated
// tensor gives the value the same op gives on one device, and keeps (or changes) the layout
// as documented. Uneven blocks (7 rows on 3 devices, 5 on 6: one device empty) included.
#include "engine/multi.h"

#include <gtest/gtest.h>

#include "tests/engine/multi/multi_test_util.h"

namespace petabox {
namespace {

using multitest::CpuDevices;
using multitest::MaxDiff;
using multitest::Ramp;
using multitest::Read;

Tensor Host(const Shape& shape, int seed) {
  return Tensor::FromVector(Ramp(Product(shape), seed), shape, DType::kFloat32, "CPU:0");
}

// m's logical value equals `want` (computed on one device) and m has that shape.
void ExpectSame(const MultiTensor& m, const Tensor& want, double tolerance = 1e-5) {
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_EQ(m.shape(), want.shape());
  StatusOr<std::vector<float>> got = m.ToFloats();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_LE(MaxDiff(*got, Read(want)), tolerance);
}

TEST(MultiTensorTest, ShardAndReplicateLayouts) {
  Tensor x = Host({7, 3}, 1);
  MultiTensor s = MultiTensor::Shard(x, CpuDevices(3), 0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.axis(), 0);
  EXPECT_EQ(s.bounds(), (std::vector<Range>{{0, 3}, {3, 5}, {5, 7}}));
  EXPECT_EQ(s.devices(), CpuDevices(3));
  EXPECT_EQ(s.shards()[1].shape(), (Shape{2, 3}));
  ExpectSame(s, x);
  MultiTensor r = MultiTensor::Replicate(x, CpuDevices(2));
  EXPECT_TRUE(r.replicated());
  ExpectSame(r, x);
  MultiTensor six = MultiTensor::Shard(Host({5}, 2), CpuDevices(6), 0);
  EXPECT_EQ(six.shards()[5].shape(), (Shape{0}));
  ExpectSame(six, Host({5}, 2));
}

TEST(MultiTensorTest, ElementwiseLinesUpLayouts) {
  Tensor a = Host({7, 4}, 1), b = Host({7, 4}, 2), row = Host({4}, 3), col = Host({7, 1}, 4);
  auto dev = CpuDevices(3);
  MultiTensor sa = MultiTensor::Shard(a, dev, 0);
  ExpectSame(sa.Add(MultiTensor::Shard(b, dev, 0)), a + b);
  ExpectSame(sa.Mul(MultiTensor::Replicate(b, dev)), a * b);          // replicated: sliced locally
  ExpectSame(sa.Sub(MultiTensor::Replicate(row, dev)), a - row);      // broadcast row
  ExpectSame(sa.Div(MultiTensor::Shard(col, dev, 0).Add(3.0)), a / (col + 3.0));
  ExpectSame(sa.Maximum(MultiTensor::Shard(b, dev, 1)), a.Maximum(b));  // other axis: resharded
  ExpectSame(MultiTensor::Replicate(a, dev).Add(MultiTensor::Shard(b, dev, 1)), a + b);
  MultiTensor sum = MultiTensor::Replicate(row, dev).Add(sa);
  EXPECT_EQ(sum.axis(), 0);
  ExpectSame(sum, row + a);
  ExpectSame(sa.Exp().Mul(2.0).Neg().Relu(), a.Exp().Mul(2.0).Neg().Relu());
  ExpectSame(MultiTensor::Where(sa.Lt(MultiTensor::Replicate(b, dev)), sa, MultiTensor::Replicate(row, dev)),
             Tensor::Where(a.Lt(b), a, row));
  EXPECT_EQ(sa.Cast(DType::kInt32).dtype(), DType::kInt32);
  EXPECT_FALSE(sa.Add(MultiTensor::Shard(b, CpuDevices(2), 0)).ok());  // other devices
}

TEST(MultiTensorTest, ReductionsOverTheShardedAxisAllReduce) {
  Tensor a = Host({7, 4, 3}, 5);
  for (int n : {2, 3, 6}) {
    MultiTensor s = MultiTensor::Shard(a, CpuDevices(n), 0);
    MultiTensor total = s.Sum({0});
    EXPECT_TRUE(total.replicated());
    ExpectSame(total, a.Sum({0}));
    ExpectSame(s.Sum(), a.Sum());
    ExpectSame(s.Max({0, 2}, true), a.Max({0, 2}, true));
    ExpectSame(s.Mean({0, 1}), a.Mean({0, 1}));
    MultiTensor inner = s.Sum({1});  // not the sharded axis: stays sharded
    EXPECT_EQ(inner.axis(), 0);
    ExpectSame(inner, a.Sum({1}));
  }
  MultiTensor by_cols = MultiTensor::Shard(a, CpuDevices(3), 2);
  MultiTensor rows = by_cols.Sum({0});
  EXPECT_EQ(rows.axis(), 1);
  ExpectSame(rows, a.Sum({0}));
  ExpectSame(by_cols.Max({2}), a.Max({2}));
}

TEST(MultiTensorTest, MovementOps) {
  Tensor a = Host({6, 4}, 6);
  auto dev = CpuDevices(3);
  MultiTensor s = MultiTensor::Shard(a, dev, 0);
  MultiTensor r1 = s.Reshape({3, 8});  // blocks of 2 rows of 4 -> 1 row of 8: stays sharded
  EXPECT_EQ(r1.axis(), 0);
  ExpectSame(r1, a.Reshape({3, 8}));
  ExpectSame(s.Reshape({12, 2}), a.Reshape({12, 2}));
  ExpectSame(s.Reshape({-1}), a.Reshape({-1}));
  ExpectSame(s.Reshape({4, 6}), a.Reshape({4, 6}));  // blocks would split: gathered
  MultiTensor t = s.Transpose();
  EXPECT_EQ(t.axis(), 1);
  ExpectSame(t, a.Transpose());
  ExpectSame(s.Reshape({6, 1, 4}).Expand({6, 5, 4}), a.Reshape({6, 1, 4}).Expand({6, 5, 4}));
  ExpectSame(s.Pad({{1, 2}, {0, 1}}, 0.5), a.Pad({{1, 2}, {0, 1}}, 0.5));
  MultiTensor shrunk = s.Shrink({{1, 5}, {1, 3}});  // uneven blocks: 1, 2, 1 rows
  EXPECT_EQ(shrunk.bounds(), (std::vector<Range>{{0, 1}, {1, 3}, {3, 4}}));
  ExpectSame(shrunk, a.Shrink({{1, 5}, {1, 3}}));
  ExpectSame(s.Shrink({{4, 6}, {0, 4}}), a.Shrink({{4, 6}, {0, 4}}));  // two blocks empty
  ExpectSame(s.Flip({0}), a.Flip({0}));
  ExpectSame(s.Flip({1}), a.Flip({1}));
  ExpectSame(shrunk.Add(1.0).Sum({0}), a.Shrink({{1, 5}, {1, 3}}).Add(1.0).Sum({0}));
}

TEST(MultiTensorTest, ReshardAndGather) {
  Tensor a = Host({5, 6}, 7);
  MultiTensor s = MultiTensor::Shard(a, CpuDevices(3), 0);
  MultiTensor cols = s.Reshard(1);
  EXPECT_EQ(cols.axis(), 1);
  EXPECT_EQ(cols.shards()[0].shape(), (Shape{5, 2}));
  ExpectSame(cols, a);
  MultiTensor rep = cols.Reshard(MultiTensor::kReplicated);
  EXPECT_TRUE(rep.replicated());
  for (const Tensor& shard : rep.shards()) EXPECT_LE(MaxDiff(Read(shard), Read(a)), 0);
  EXPECT_LE(MaxDiff(Read(s.To("CPU:2")), Read(a)), 0);
}

TEST(MultiTensorTest, Matmul) {
  Tensor x = Host({7, 5}, 8), w = Host({5, 3}, 9);
  auto dev = CpuDevices(3);
  Tensor want = x.Matmul(w);
  MultiTensor rows = MultiTensor::Shard(x, dev, 0).Matmul(MultiTensor::Replicate(w, dev));
  EXPECT_EQ(rows.axis(), 0);
  ExpectSame(rows, want);
  MultiTensor inner = MultiTensor::Shard(x, dev, 1).Matmul(MultiTensor::Shard(w, dev, 0));
  EXPECT_TRUE(inner.replicated());  // partial products, all-reduced
  ExpectSame(inner, want);
  ExpectSame(MultiTensor::Shard(x, dev, 1).Matmul(MultiTensor::Replicate(w, dev)), want);
  MultiTensor cols = MultiTensor::Replicate(x, dev).Matmul(MultiTensor::Shard(w, dev, 1));
  EXPECT_EQ(cols.axis(), 1);
  ExpectSame(cols, want);
  Tensor bx = Host({4, 3, 5}, 10), bw = Host({4, 5, 2}, 11);
  MultiTensor batched = MultiTensor::Shard(bx, dev, 0).Matmul(MultiTensor::Replicate(bw, dev));
  EXPECT_EQ(batched.axis(), 0);
  ExpectSame(batched, bx.Matmul(bw));
  EXPECT_FALSE(MultiTensor::Shard(Host({4}, 1), dev, 0).Matmul(MultiTensor::Replicate(w, dev)).ok());
}

TEST(MultiTensorTest, ErrorsPropagate) {
  MultiTensor bad = MultiTensor::Shard(Host({4, 2}, 1), CpuDevices(2), 3);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(bad.Add(1.0).Sum().ok());
  EXPECT_FALSE(MultiTensor().ok());
  EXPECT_FALSE(MultiTensor::FromShards({Host({2}, 1), Host({2}, 2)}, MultiTensor::kReplicated).ok());  // both CPU:0
  EXPECT_FALSE(MultiTensor::Shard(Host({4, 2}, 1), CpuDevices(2), 0).Reshape({5}).ok());
}

}  // namespace
}  // namespace petabox
