// Concatenations: which sums of pads are recognized, and that one with a part from another
// device is written in place (copies into ranges of one buffer, no kernel) with the right
// values, eagerly and under JIT replay.
#include "engine/schedule/concat.h"

#include <gtest/gtest.h>

#include <random>

#include "engine/jit.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

bool AnyAdd(const Node*) { return true; }

std::vector<float> RandomFloats(size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// A realized tensor of random values (its node is what a part of a concatenation is).
Tensor Buf(const Shape& shape) {
  static uint64_t seed = 1;
  Tensor t = Tensor::Rand(shape, seed++);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

Tensor On(const std::vector<float>& v, const Shape& shape, const std::string& device) {
  Tensor t = Tensor::FromVector(v, shape, DType::kFloat32, device);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

TEST(ConcatPartsTest, CatAlongTheFirstAxisGivesItsPartsAndOffsets) {
  Tensor a = Buf({2, 3}), b = Buf({4, 3});
  Tensor c = Tensor::Cat({a, b}, 0);
  std::vector<ConcatPart> parts = ConcatParts(c.node().get(), AnyAdd);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].value, a.node().get());
  EXPECT_EQ(parts[0].offset, 0);
  EXPECT_EQ(parts[1].value, b.node().get());
  EXPECT_EQ(parts[1].offset, 6);
}

TEST(ConcatPartsTest, AnInnerAxisIsContiguousOnlyBelowSingleIndices) {
  Tensor a = Buf({2, 3}), b = Buf({2, 1});
  EXPECT_TRUE(ConcatParts(Tensor::Cat({a, b}, 1).node().get(), AnyAdd).empty());
  Tensor c = Buf({1, 3}), d = Buf({1, 2});
  std::vector<ConcatPart> parts = ConcatParts(Tensor::Cat({c, d}, 1).node().get(), AnyAdd);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].offset, 3);
}

TEST(ConcatPartsTest, OverlapsGapsAndOnePartAreNotConcatenations) {
  Tensor a = Buf({4}), b = Buf({4});
  EXPECT_TRUE(ConcatParts((a.Pad({{0, 2}}) + b.Pad({{2, 0}})).node().get(), AnyAdd).empty());  // overlap
  EXPECT_TRUE(ConcatParts((a.Pad({{0, 5}}) + b.Pad({{5, 0}})).node().get(), AnyAdd).empty());  // gap
  EXPECT_TRUE(ConcatParts(a.Pad({{0, 0}}).node().get(), AnyAdd).empty());
  Tensor three = Tensor::Cat({a, b, Buf({2})}, 0);
  EXPECT_EQ(ConcatParts(three.node().get(), AnyAdd).size(), 3u);
  EXPECT_TRUE(ConcatParts(three.node().get(), [](const Node*) { return false; }).empty());
}

// Host concatenation along axis 0 (the reference).
std::vector<float> Joined(const std::vector<std::vector<float>>& parts) {
  std::vector<float> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(InPlaceConcatTest, PartsFromOtherDevicesAreCopiedIntoTheResult) {
  std::mt19937 gen(7);
  std::vector<float> va = RandomFloats(5 * 3, gen), vb = RandomFloats(2 * 3, gen), vc = RandomFloats(7 * 3, gen);
  Tensor a = On(va, {5, 3}, "CPU:1"), b = On(vb, {2, 3}, "CPU:0"), c = On(vc, {7, 3}, "CPU:2");
  Tensor cat = Tensor::Cat({a.To("CPU:0"), b, c.To("CPU:0")}, 0);
  auto items = CreateSchedule({cat.node()});
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  int copies = 0, kernels = 0;
  for (const ScheduleItem& item : *items) {
    kernels += item.kind == ScheduleItem::Kind::kKernel;
    copies += item.kind == ScheduleItem::Kind::kCopy && item.into_output;
  }
  EXPECT_EQ(kernels, 0);
  EXPECT_EQ(copies, 3);
  auto got = cat.ToFloats();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, Joined({va, vb, vc}));
}

TEST(InPlaceConcatTest, AComputedLocalPartKeepsTheKernel) {
  std::mt19937 gen(8);
  std::vector<float> va = RandomFloats(6, gen), vb = RandomFloats(4, gen);
  Tensor a = On(va, {6}, "CPU:1"), b = On(vb, {4}, "CPU:0");
  Tensor cat = Tensor::Cat({a.To("CPU:0"), b * 2.0}, 0);
  auto items = CreateSchedule({cat.node()});
  ASSERT_TRUE(items.ok());
  int kernels = 0;
  for (const ScheduleItem& item : *items) kernels += item.kind == ScheduleItem::Kind::kKernel;
  EXPECT_EQ(kernels, 1);
  auto got = cat.ToFloats();
  ASSERT_TRUE(got.ok());
  for (float& x : vb) x *= 2;
  EXPECT_EQ(*got, Joined({va, vb}));
}

TEST(InPlaceConcatTest, SlicesAndACopyReadTwiceAreCorrect) {
  std::mt19937 gen(9);
  std::vector<float> va = RandomFloats(10, gen), vb = RandomFloats(3, gen);
  Tensor a = On(va, {10}, "CPU:1"), b = On(vb, {3}, "CPU:0");
  Tensor moved = a.To("CPU:0");
  Tensor cat = Tensor::Cat({moved.Shrink({{2, 9}}), b, moved}, 0);  // a slice of the copy, then all of it
  Tensor twice = cat.Sum();
  auto got = cat.ToFloats();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<float> slice(va.begin() + 2, va.begin() + 9);
  EXPECT_EQ(*got, Joined({slice, vb, va}));
  EXPECT_TRUE(twice.Realize().ok());
}

TEST(InPlaceConcatTest, JitReplayWritesNewInputsIntoTheResult) {
  Jit jit([](const std::vector<Tensor>& in) -> StatusOr<std::vector<Tensor>> {
    return std::vector<Tensor>{Tensor::Cat({in[0].To("CPU:0"), in[1], in[2].To("CPU:0")}, 0)};
  });
  std::mt19937 gen(10);
  for (int call = 0; call < 4; ++call) {
    std::vector<float> va = RandomFloats(4, gen), vb = RandomFloats(9, gen), vc = RandomFloats(1, gen);
    auto out = jit.Run({On(va, {4}, "CPU:2"), On(vb, {9}, "CPU:0"), On(vc, {1}, "CPU:1")});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    auto got = (*out)[0].ToFloats();
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, Joined({va, vb, vc})) << "call " << call;
  }
}

}  // namespace
}  // namespace petabox
