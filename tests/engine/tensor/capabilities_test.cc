// The frontend's per-device choices follow DeviceCapabilities (devices/device.h), not the
// device's name: the same code on two test devices that differ in one capability builds
// different graphs with the same values.
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "tests/engine/test_devices.h"

namespace petabox {
namespace {

// How many nodes of `t`'s lazy graph have op `op`.
int CountOps(const Tensor& t, Op op) {
  std::set<const Node*> seen;
  int count = 0;
  std::function<void(const NodeRef&)> visit = [&](const NodeRef& n) {
    if (!seen.insert(n.get()).second) return;
    if (n->op == op) ++count;
    for (const NodeRef& s : n->srcs) visit(s);
  };
  visit(t.node());
  return count;
}

std::vector<float> Iota(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 13) * scale - 1.0f;
  return v;
}

class CapabilitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // CPU devices underneath, so their kernels loop over chunks; the rest is a GPU's
    // defaults, with one capability changed per device.
    DeviceCapabilities plain;
    plain.loops_over_chunks = true;
    DeviceCapabilities packs = plain;
    packs.packs_operands_for_simd = true;
    DeviceCapabilities no_split = plain;
    no_split.splits_big_reductions = false;
    devices_.Add("PLAIN:0", plain);
    devices_.Add("PACKS:0", packs);
    devices_.Add("NOSPLIT:0", no_split);
  }

  CapabilityDevices devices_;
  ScopedDeviceSource scoped_{&devices_};
};

TEST_F(CapabilitiesTest, MatmulPacksATransposedWeightOnlyWhereTheDeviceSaysSo) {
  const Shape xs = {32, 128}, ws = {256, 128};
  std::vector<float> x = Iota(32 * 128, 0.25f), w = Iota(256 * 128, 0.5f);
  std::vector<float> results[2];
  int contiguous[2];
  const char* names[2] = {"PLAIN:0", "PACKS:0"};
  for (int i = 0; i < 2; ++i) {
    Tensor y = Tensor::FromVector(x, xs, DType::kFloat32, names[i])
                   .Matmul(Tensor::FromVector(w, ws, DType::kFloat32, names[i]).Transpose());
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    contiguous[i] = CountOps(y, Op::kContiguous);
    StatusOr<std::vector<float>> values = y.ToFloats();
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    results[i] = *values;
  }
  EXPECT_EQ(contiguous[0], 0);
  EXPECT_EQ(contiguous[1], 1);
  EXPECT_EQ(results[0], results[1]);
}

TEST_F(CapabilitiesTest, ConvMaterializesWindowsOnlyWhereTheDeviceSaysSo) {
  std::vector<float> x = Iota(2 * 3 * 8 * 8, 0.1f), w = Iota(16 * 3 * 3 * 3, 0.2f);
  std::vector<float> results[2];
  int contiguous[2];
  const char* names[2] = {"PLAIN:0", "PACKS:0"};
  for (int i = 0; i < 2; ++i) {
    Tensor y = Tensor::FromVector(x, {2, 3, 8, 8}, DType::kFloat32, names[i])
                   .Conv2d(Tensor::FromVector(w, {16, 3, 3, 3}, DType::kFloat32, names[i]));
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    contiguous[i] = CountOps(y, Op::kContiguous);
    results[i] = *y.ToFloats();
  }
  // im2col windows and the weight with output channels innermost: two copies more.
  EXPECT_EQ(contiguous[1], contiguous[0] + 2);
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i) EXPECT_NEAR(results[0][i], results[1][i], 1e-3) << i;
}

TEST_F(CapabilitiesTest, BigReductionsSplitOnlyWhereTheDeviceSaysSo) {
  std::vector<float> ones(1 << 18, 1.0f);
  Tensor split = Tensor::FromVector(ones, {1 << 18}, DType::kFloat32, "PLAIN:0").Sum({0});
  Tensor whole = Tensor::FromVector(ones, {1 << 18}, DType::kFloat32, "NOSPLIT:0").Sum({0});
  EXPECT_EQ(CountOps(split, Op::kReduceSum), 2);
  EXPECT_EQ(CountOps(whole, Op::kReduceSum), 1);
  EXPECT_EQ(*split.ToFloats(), std::vector<float>{1 << 18});
  EXPECT_EQ(*whole.ToFloats(), std::vector<float>{1 << 18});
}

}  // namespace
}  // namespace petabox
