// Conformance of the movement ops (zero-copy views) against the naive host reference:
// reshape, permute, transpose, expand, pad, shrink, flip, slice, flatten, (un)squeeze,
// cat, stack, and chains of them, read back through a copy and fed into compute.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference

// One movement (or chain of movements) applied to a random base, on both sides.
struct MoveCase {
  const char* name;
  Shape base;
  std::function<Tensor(const Tensor&)> op;
  std::function<HostArray(const HostArray&)> ref;
};

const MoveCase kMoves[] = {
    // reshape
    {"ReshapeMergeLeading", {3, 4, 5}, [](const Tensor& t) { return t.Reshape({12, 5}); },
     [](const HostArray& a) { return Reshape(a, {12, 5}); }},
    {"ReshapeInferred", {3, 4, 5}, [](const Tensor& t) { return t.Reshape({6, -1}); },
     [](const HostArray& a) { return Reshape(a, {6, 10}); }},
    {"ReshapeAddSize1Dims", {3, 7}, [](const Tensor& t) { return t.Reshape({1, 3, 1, 7}); },
     [](const HostArray& a) { return Reshape(a, {1, 3, 1, 7}); }},
    {"ReshapeOfPermuted", {3, 4, 5}, [](const Tensor& t) { return t.Permute({2, 0, 1}).Reshape({5, 12}); },
     [](const HostArray& a) { return Reshape(Permute(a, {2, 0, 1}), {5, 12}); }},
    {"ReshapeOfTransposedSplit", {6, 4}, [](const Tensor& t) { return t.Transpose().Reshape({2, 2, 3, -1}); },
     [](const HostArray& a) { return Reshape(Transpose(a), {2, 2, 3, 2}); }},
    // permute, transpose
    {"Permute201", {2, 3, 4}, [](const Tensor& t) { return t.Permute({2, 0, 1}); },
     [](const HostArray& a) { return Permute(a, {2, 0, 1}); }},
    {"Permute102", {2, 3, 4}, [](const Tensor& t) { return t.Permute({1, 0, 2}); },
     [](const HostArray& a) { return Permute(a, {1, 0, 2}); }},
    {"TransposeDefault", {3, 5}, [](const Tensor& t) { return t.Transpose(); },
     [](const HostArray& a) { return Transpose(a); }},
    {"TransposeOuter", {2, 3, 4}, [](const Tensor& t) { return t.Transpose(0, 2); },
     [](const HostArray& a) { return Transpose(a, 0, 2); }},
    // expand
    {"ExpandColumn", {3, 1}, [](const Tensor& t) { return t.Expand({3, 4}); },
     [](const HostArray& a) { return Expand(a, {3, 4}); }},
    {"ExpandPrependKeep", {3, 1}, [](const Tensor& t) { return t.Expand({2, -1, 4}); },
     [](const HostArray& a) { return Expand(a, {2, -1, 4}); }},
    {"ExpandSize1ToOdd", {1}, [](const Tensor& t) { return t.Expand({3, 7}); },
     [](const HostArray& a) { return Expand(a, {3, 7}); }},
    // pad
    {"PadZero", {3, 5}, [](const Tensor& t) { return t.Pad({{1, 2}, {0, 3}}); },
     [](const HostArray& a) { return Pad(a, {{1, 2}, {0, 3}}); }},
    {"PadValue", {3, 5}, [](const Tensor& t) { return t.Pad({{0, 1}, {2, 2}}, -1.5); },
     [](const HostArray& a) { return Pad(a, {{0, 1}, {2, 2}}, -1.5); }},
    {"PadMiddleDimOf3d", {2, 1, 3}, [](const Tensor& t) { return t.Pad({{0, 0}, {2, 1}, {0, 0}}, 7); },
     [](const HostArray& a) { return Pad(a, {{0, 0}, {2, 1}, {0, 0}}, 7); }},
    // shrink
    {"Shrink", {5, 7}, [](const Tensor& t) { return t.Shrink({{1, 4}, {2, 7}}); },
     [](const HostArray& a) { return Shrink(a, {{1, 4}, {2, 7}}); }},
    {"ShrinkToSize1", {5, 7}, [](const Tensor& t) { return t.Shrink({{4, 5}, {3, 4}}); },
     [](const HostArray& a) { return Shrink(a, {{4, 5}, {3, 4}}); }},
    {"ShrinkIntoPad", {3, 4}, [](const Tensor& t) { return t.Pad({{2, 2}, {1, 1}}, 9).Shrink({{1, 6}, {0, 3}}); },
     [](const HostArray& a) { return Shrink(Pad(a, {{2, 2}, {1, 1}}, 9), {{1, 6}, {0, 3}}); }},
    // flip
    {"FlipAxis0", {4, 3}, [](const Tensor& t) { return t.Flip({0}); },
     [](const HostArray& a) { return Flip(a, {0}); }},
    {"FlipTwoAxes", {2, 3, 5}, [](const Tensor& t) { return t.Flip({0, 2}); },
     [](const HostArray& a) { return Flip(a, {0, 2}); }},
    {"FlipNegativeAxis", {3, 7}, [](const Tensor& t) { return t.Flip({-1}); },
     [](const HostArray& a) { return Flip(a, {-1}); }},
    // slice (Python semantics)
    {"SliceStep2", {9, 3}, [](const Tensor& t) { return t.Slice(0, 1, 8, 2); },
     [](const HostArray& a) { return Slice(a, 0, 1, 8, 2); }},
    {"SliceNegativeStartStop", {3, 9}, [](const Tensor& t) { return t.Slice(1, -5, -1); },
     [](const HostArray& a) { return Slice(a, 1, -5, -1); }},
    {"SliceNegativeStep", {3, 9}, [](const Tensor& t) { return t.Slice(-1, 7, 1, -2); },
     [](const HostArray& a) { return Slice(a, -1, 7, 1, -2); }},
    {"SliceFullReverse", {7}, [](const Tensor& t) { return t.Slice(0, -1, -8, -1); },
     [](const HostArray& a) { return Slice(a, 0, -1, -8, -1); }},
    {"SliceStopClamped", {5, 2}, [](const Tensor& t) { return t.Slice(0, 2, 100); },
     [](const HostArray& a) { return Slice(a, 0, 2, 100); }},
    {"SliceNegativeStep3", {17}, [](const Tensor& t) { return t.Slice(0, 16, 0, -3); },
     [](const HostArray& a) { return Slice(a, 0, 16, 0, -3); }},
    // flatten, unsqueeze, squeeze
    {"FlattenAll", {2, 3, 4}, [](const Tensor& t) { return t.Flatten(); },
     [](const HostArray& a) { return Reshape(a, {24}); }},
    {"FlattenFrom1", {2, 3, 4}, [](const Tensor& t) { return t.Flatten(1); },
     [](const HostArray& a) { return Reshape(a, {2, 12}); }},
    {"Flatten0To1", {2, 3, 4}, [](const Tensor& t) { return t.Flatten(0, 1); },
     [](const HostArray& a) { return Reshape(a, {6, 4}); }},
    {"FlattenOfTransposed", {3, 5}, [](const Tensor& t) { return t.Transpose().Flatten(); },
     [](const HostArray& a) { return Reshape(Transpose(a), {15}); }},
    {"Unsqueeze0", {3, 5}, [](const Tensor& t) { return t.Unsqueeze(0); },
     [](const HostArray& a) { return Reshape(a, {1, 3, 5}); }},
    {"UnsqueezeMiddle", {3, 5}, [](const Tensor& t) { return t.Unsqueeze(1); },
     [](const HostArray& a) { return Reshape(a, {3, 1, 5}); }},
    {"UnsqueezeNegative", {3, 5}, [](const Tensor& t) { return t.Unsqueeze(-1); },
     [](const HostArray& a) { return Reshape(a, {3, 5, 1}); }},
    {"Squeeze0", {1, 3, 5}, [](const Tensor& t) { return t.Squeeze(0); },
     [](const HostArray& a) { return Reshape(a, {3, 5}); }},
    {"SqueezeNegative", {3, 1}, [](const Tensor& t) { return t.Squeeze(-1); },
     [](const HostArray& a) { return Reshape(a, {3}); }},
    // chains
    {"PermutePadFlipSlice", {2, 3, 4},
     [](const Tensor& t) { return t.Permute({1, 2, 0}).Pad({{1, 0}, {0, 0}, {0, 1}}, 0.25).Flip({1}).Slice(0, 3, 0, -1); },
     [](const HostArray& a) {
       return Slice(Flip(Pad(Permute(a, {1, 2, 0}), {{1, 0}, {0, 0}, {0, 1}}, 0.25), {1}), 0, 3, 0, -1);
     }},
    {"ExpandThenReshape", {3, 1}, [](const Tensor& t) { return t.Expand({3, 4}).Reshape({2, 6}); },
     [](const HostArray& a) { return Reshape(Expand(a, {3, 4}), {2, 6}); }},
    {"DoubleFlipIsIdentity", {3, 5}, [](const Tensor& t) { return t.Flip({1}).Flip({1}); },
     [](const HostArray& a) { return a; }},
    {"PadThenShrinkBack", {4, 3}, [](const Tensor& t) { return t.Pad({{1, 1}, {2, 0}}).Shrink({{1, 5}, {2, 5}}); },
     [](const HostArray& a) { return a; }},
};

// Cases whose view is also fed into compute (fused into it), besides being read back; the
// other views reach compute in the elementwise, reduce and nn tests (kept few to bound the
// number of kernels the suite compiles).
const std::set<std::string> kAlsoCompute = {
    "ReshapeOfPermuted", "ReshapeOfTransposedSplit", "ExpandPrependKeep", "PadValue",
    "ShrinkIntoPad",     "SliceNegativeStep",        "FlattenOfTransposed", "PermutePadFlipSlice",
    "ExpandThenReshape", "PadThenShrinkBack",
};

class MovementTest : public ::testing::TestWithParam<MoveCase> {};

TEST_P(MovementTest, MatchesReference) {
  const MoveCase& c = GetParam();
  HostArray a = RandomHost(c.base);
  HostArray want = c.ref(a);
  Tensor view = c.op(ToTensor(a));
  ExpectClose(view, want, 0, 0);
  if (kAlsoCompute.count(c.name))
    ExpectClose(view * 2.0 + 1.0, Map(want, [](double x) { return 2 * x + 1; }));
}

INSTANTIATE_TEST_SUITE_P(Ops, MovementTest, ::testing::ValuesIn(kMoves),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- cat, stack

TEST(CatTest, Axis0) {
  HostArray a = RandomHost({2, 3}), b = RandomHost({4, 3});
  ExpectClose(Tensor::Cat({ToTensor(a), ToTensor(b)}, 0), Cat({a, b}, 0), 0, 0);
}

TEST(CatTest, ThreeDifferentWidthsNegativeAxis) {
  HostArray a = RandomHost({2, 1}), b = RandomHost({2, 3}), c = RandomHost({2, 5});
  ExpectClose(Tensor::Cat({ToTensor(a), ToTensor(b), ToTensor(c)}, -1), Cat({a, b, c}, 1), 0, 0);
}

TEST(CatTest, NonContiguousInputsThenCompute) {
  HostArray a = RandomHost({3, 2}), b = RandomHost({2, 4});
  Tensor out = Tensor::Cat({ToTensor(a).Transpose(), ToTensor(b).Flip({1})}, 1).Exp();
  ExpectClose(out, Map(Cat({Transpose(a), Flip(b, {1})}, 1), [](double x) { return std::exp(x); }));
}

TEST(CatTest, SingleTensor) {
  HostArray a = RandomHost({3, 4});
  ExpectClose(Tensor::Cat({ToTensor(a)}, 1), a, 0, 0);
}

TEST(StackTest, Axis0) {
  HostArray a = RandomHost({3, 4}), b = RandomHost({3, 4}), c = RandomHost({3, 4});
  ExpectClose(Tensor::Stack({ToTensor(a), ToTensor(b), ToTensor(c)}, 0), Stack({a, b, c}, 0), 0, 0);
}

TEST(StackTest, MiddleAndLastAxis) {
  HostArray a = RandomHost({2, 3}), b = RandomHost({2, 3});
  ExpectClose(Tensor::Stack({ToTensor(a), ToTensor(b)}, 1), Stack({a, b}, 1), 0, 0);
  ExpectClose(Tensor::Stack({ToTensor(a), ToTensor(b).Flip({0})}, -1), Stack({a, Flip(b, {0})}, 2), 0, 0);
}

// ---------------------------------------------------------------- shapes, realized views

TEST(MovementShapeTest, ShapesWithoutRealizing) {
  Tensor t = ToTensor(RandomHost({2, 3, 4}));
  EXPECT_EQ(t.Reshape({4, -1}).shape(), (Shape{4, 6}));
  EXPECT_EQ(t.Permute({2, 1, 0}).shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.Transpose().shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(t.Pad({{0, 0}, {1, 1}, {2, 0}}).shape(), (Shape{2, 5, 6}));
  EXPECT_EQ(t.Shrink({{0, 1}, {1, 3}, {0, 4}}).shape(), (Shape{1, 2, 4}));
  EXPECT_EQ(t.Slice(2, -1, -5, -2).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(t.Flatten().shape(), (Shape{24}));
  EXPECT_EQ(t.Unsqueeze(3).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(t.Expand({5, 2, 3, 4}).shape(), (Shape{5, 2, 3, 4}));
  EXPECT_EQ(Tensor::Stack({t, t}, 3).shape(), (Shape{2, 3, 4, 2}));
  EXPECT_EQ(Tensor::Cat({t, t}, 1).shape(), (Shape{2, 6, 4}));
}

TEST(RealizedViewTest, ViewsOfRealizedResult) {
  HostArray a = RandomHost({4, 6});
  Tensor r = ToTensor(a) * 3.0;
  ASSERT_TRUE(r.Realize().ok());
  HostArray rref = Map(a, [](double x) { return 3 * x; });
  ExpectClose(r.Slice(1, 5, 0, -2).Transpose(), Transpose(Slice(rref, 1, 5, 0, -2)), 1e-6);
  ExpectClose(r.Reshape({2, 12}).Pad({{1, 0}, {0, 0}}, 1) + 1.0,
              Map(Pad(Reshape(rref, {2, 12}), {{1, 0}, {0, 0}}, 1), [](double x) { return x + 1; }));
}

TEST(ContiguousTest, MaterializesView) {
  HostArray a = RandomHost({3, 5});
  Tensor c = ToTensor(a).Transpose().Contiguous();
  ASSERT_TRUE(c.Realize().ok());
  ExpectClose(c, Transpose(a), 0, 0);
  ExpectClose(c.Reshape({15}).Flip({0}), Flip(Reshape(Transpose(a), {15}), {0}), 0, 0);
}

}  // namespace
}  // namespace petabox
