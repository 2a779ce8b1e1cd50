// Bad input returns a clear error, never a crash: invalid shapes, axes, reshapes, permutes,
// dtypes and devices give a non-OK Status whose message names the op's shapes (as
// ShapeToString prints them, e.g. "(2, 3)"); ops on an errored tensor propagate the first
// error through to Realize() and the data accessors.
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/dtype.h"
#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference

// Checks that `t` carries an error of `code` whose message contains every one of `parts`.
void ExpectError(const Tensor& t, StatusCode code, const std::vector<std::string>& parts) {
  ASSERT_FALSE(t.ok()) << "expected an error";
  EXPECT_EQ(t.status().code(), code) << t.status().ToString();
  EXPECT_FALSE(t.status().message().empty());
  for (const std::string& p : parts)
    EXPECT_NE(t.status().message().find(p), std::string::npos)
        << "message \"" << t.status().message() << "\" does not contain \"" << p << "\"";
}

Tensor Rand(const Shape& shape) { return ToTensor(RandomHost(shape)); }

// ---------------------------------------------------------------- shape errors name the shapes

TEST(ShapeErrorTest, ElementwiseMismatch) {
  Tensor a = Rand({2, 3}), b = Rand({4, 5});
  ExpectError(a + b, StatusCode::kInvalidArgument, {"(2, 3)", "(4, 5)"});
  ExpectError(a.Maximum(b), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 5)"});
  ExpectError(a.Lt(b), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 5)"});
  ExpectError(a.Pow(b), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 5)"});
}

TEST(ShapeErrorTest, WhereMismatch) {
  Tensor c = Rand({2, 3}).Gt(0.0), a = Rand({2, 3}), b = Rand({4, 3});
  ExpectError(Tensor::Where(c, a, b), StatusCode::kInvalidArgument, {"(4, 3)"});
}

TEST(ShapeErrorTest, InvalidReshape) {
  Tensor a = Rand({2, 3});
  ExpectError(a.Reshape({4, 2}), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 2)"});
  ExpectError(a.Reshape({-1, -1}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Reshape({4, -1}), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, InvalidPermute) {
  Tensor a = Rand({2, 3});
  ExpectError(a.Permute({0, 0}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Permute({0}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Permute({0, 2}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Transpose(0, 5), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, InvalidExpand) {
  Tensor a = Rand({2, 3});
  ExpectError(a.Expand({4, 3}), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 3)"});
  ExpectError(a.Expand({3}), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, InvalidPadShrinkSliceFlip) {
  Tensor a = Rand({2, 3});
  ExpectError(a.Pad({{1, 1}}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Shrink({{0, 2}, {1, 4}}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Shrink({{1, 0}, {0, 3}}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Slice(1, 0, 3, 0), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Slice(2, 0, 1), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Flip({2}), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, InvalidAxes) {
  Tensor a = Rand({2, 3});
  ExpectError(a.Sum({2}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Max({-3}), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Argmax(2), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Softmax(3), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Unsqueeze(4), StatusCode::kInvalidArgument, {"(2, 3)"});
  ExpectError(a.Squeeze(5), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, CatStackMismatch) {
  Tensor a = Rand({2, 3}), b = Rand({2, 4}), c = Rand({3, 2});
  ExpectError(Tensor::Cat({a, b}, 0), StatusCode::kInvalidArgument, {"(2, 3)", "(2, 4)"});
  ExpectError(Tensor::Stack({a, c}, 0), StatusCode::kInvalidArgument, {"(2, 3)", "(3, 2)"});
  ExpectError(Tensor::Cat({a, b}, 2), StatusCode::kInvalidArgument, {"(2, 3)"});
  EXPECT_FALSE(Tensor::Cat({}, 0).ok());
  EXPECT_FALSE(Tensor::Stack({}, 0).ok());
}

TEST(ShapeErrorTest, MatmulMismatch) {
  ExpectError(Rand({2, 3}).Matmul(Rand({4, 5})), StatusCode::kInvalidArgument, {"(2, 3)", "(4, 5)"});
  ExpectError(Rand({2, 3, 4}).Matmul(Rand({3, 5, 6})), StatusCode::kInvalidArgument, {"(2, 3, 4)", "(3, 5, 6)"});
}

TEST(ShapeErrorTest, Conv2dMismatch) {
  Tensor x = Rand({1, 3, 5, 5});
  ExpectError(x.Conv2d(Rand({2, 4, 3, 3})), StatusCode::kInvalidArgument, {"(1, 3, 5, 5)", "(2, 4, 3, 3)"});
  ExpectError(Rand({3, 5, 5}).Conv2d(Rand({2, 3, 3, 3})), StatusCode::kInvalidArgument, {"(3, 5, 5)"});
  // Groups must divide the channels; the bias must have one value per output channel.
  ExpectError(x.Conv2d(Rand({2, 3, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2), StatusCode::kInvalidArgument,
              {"(1, 3, 5, 5)"});
  ExpectError(x.Conv2d(Rand({2, 3, 3, 3}), Rand({3})), StatusCode::kInvalidArgument, {"(3,)"});
  // A kernel larger than the (padded) input.
  ExpectError(x.Conv2d(Rand({2, 3, 7, 7})), StatusCode::kInvalidArgument, {"(1, 3, 5, 5)", "7, 7)"});
}

// Pools need at least (H, W); the kernel must fit the (padded) input.
TEST(ShapeErrorTest, PoolBadInputs) {
  ExpectError(Rand({5}).MaxPool2d({2, 2}), StatusCode::kInvalidArgument, {"(5,)"});
  ExpectError(Rand({1, 1, 2, 2}).AvgPool2d({3, 3}), StatusCode::kInvalidArgument, {"(1, 1, 2, 2)"});
  ExpectError(Rand({1, 1, 2, 2}).MaxPool2d({3, 3}), StatusCode::kInvalidArgument, {"(1, 1, 2, 2)"});
}

TEST(ShapeErrorTest, CrossEntropyMismatch) {
  Tensor logits = Rand({4, 3});
  Tensor targets = Tensor::FromVector({0, 1, 2}, {3}, DType::kInt32);
  ExpectError(logits.CrossEntropy(targets), StatusCode::kInvalidArgument, {"(4, 3)", "(3,)"});
}

TEST(ShapeErrorTest, FromVectorSizeMismatch) {
  ExpectError(Tensor::FromVector({1, 2, 3, 4, 5}, {2, 3}), StatusCode::kInvalidArgument, {"(2, 3)"});
}

TEST(ShapeErrorTest, AssignMismatch) {
  Tensor t = Rand({2, 3});
  ASSERT_TRUE(t.Realize().ok());
  ExpectError(t.Assign(Rand({3, 2})), StatusCode::kInvalidArgument, {"(2, 3)", "(3, 2)"});
}

TEST(ShapeErrorTest, ItemOfManyElements) {
  StatusOr<double> v = Rand({2, 3}).Item();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("(2, 3)"), std::string::npos) << v.status().ToString();
}

// ---------------------------------------------------------------- dtypes, devices

TEST(DTypeErrorTest, UnknownDtypeName) {
  StatusOr<DType> d = ParseDType("float7");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("float7"), std::string::npos) << d.status().ToString();
  StatusOr<DType> ok = ParseDType("bfloat16");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, DType::kBFloat16);
}

TEST(DeviceErrorTest, UnknownDevicesAreNotFound) {
  // An unknown kind and an index out of range; the message names at least the kind.
  for (const std::string dev : {"GPU:7", "CPU:99"}) {
    SCOPED_TRACE(dev);
    std::string kind = dev.substr(0, 3);
    ExpectError(Tensor::Zeros({2, 3}, DType::kFloat32, dev), StatusCode::kNotFound, {kind});
    ExpectError(Tensor::FromVector({1, 2}, {2}, DType::kFloat32, dev), StatusCode::kNotFound, {kind});
    ExpectError(Tensor::Arange(0, 4, 1, DType::kFloat32, dev), StatusCode::kNotFound, {kind});
    ExpectError(Rand({2, 3}).To(dev), StatusCode::kNotFound, {kind});
  }
}

TEST(DeviceErrorTest, MalformedDeviceName) {
  Tensor t = Tensor::Zeros({2}, DType::kFloat32, "CPU:x");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("CPU:x"), std::string::npos) << t.status().ToString();
}

// The contract leaves cross-device operands open: either a correct result or an error that
// names the devices; never a crash or a wrong value.
TEST(DeviceErrorTest, OperandsOnDifferentDevices) {
  Tensor a = Tensor::Ones({3}, DType::kFloat32, "CPU:0"), b = Tensor::Ones({3}, DType::kFloat32, "CPU:1");
  Tensor c = a + b;
  if (c.ok()) {
    ExpectClose(c, HostArray::Filled({3}, 2), 0, 0);
  } else {
    EXPECT_NE(c.status().message().find("CPU:1"), std::string::npos) << c.status().ToString();
  }
}

TEST(DeviceErrorTest, MatmulNamesBothDevices) {
  Tensor a = Tensor::Ones({4, 3}, DType::kFloat32, "CPU:0"), b = Tensor::Ones({3, 2}, DType::kFloat32, "CPU:1");
  Tensor c = a.Matmul(b);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("different devices CPU:0 and CPU:1"), std::string::npos) << c.status().ToString();
}

// ---------------------------------------------------------------- propagation

TEST(PropagationTest, FirstErrorFlowsThroughLaterOps) {
  Tensor bad = Rand({2, 3}) + Rand({4, 5});
  ASSERT_FALSE(bad.ok());
  Status first = bad.status();
  Tensor good = Rand({2, 3});
  std::vector<Tensor> downstream = {
      bad.Exp().Sum({0}).Reshape({-1}),
      good + bad,
      bad.Reshape({7, 7}),  // itself invalid too: the first error still wins
      bad.Matmul(good),
      Tensor::Where(good.Gt(0.0), bad, good),
      Tensor::Cat({good, bad}, 0),
      Tensor::Stack({bad, good}, 0),
      bad.Softmax().Cast(DType::kFloat16),
  };
  for (size_t i = 0; i < downstream.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_FALSE(downstream[i].ok());
    EXPECT_EQ(downstream[i].status().code(), first.code());
    EXPECT_EQ(downstream[i].status().message(), first.message());
  }
  Tensor chain = downstream[0];
  Status r = chain.Realize();
  EXPECT_EQ(r.message(), first.message());
  EXPECT_FALSE(chain.ToDoubles().ok());
  EXPECT_FALSE(chain.ToFloats().ok());
  EXPECT_FALSE(chain.Item().ok());
  Tensor also_good = good * 2.0;
  Status all = RealizeAll({&also_good, &chain});
  EXPECT_FALSE(all.ok());
}

TEST(PropagationTest, UninitializedTensor) {
  Tensor none;
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((none + Rand({3})).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((Rand({3}) * none).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.Sum().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(none.Realize().ok());
  EXPECT_FALSE(none.ToDoubles().ok());
}

TEST(PropagationTest, ErrorTensorCarriesItsStatus) {
  Tensor e = Tensor::Error(Unavailable("device went away"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(e.status().message(), "device went away");
  EXPECT_EQ(e.Relu().Mean().status().message(), "device went away");
}

// Accessors of an errored tensor answer (they must not dereference a missing node). Run in
// a child process so that a crash fails this test only.
TEST(ErrorAccessorsDeathTest, AccessorsOfErrorTensorDoNotCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Tensor bad = Rand({2, 3}).Reshape({5});
        Tensor none;
        int64_t sink = bad.ndim() + bad.numel() + static_cast<int64_t>(bad.device().size()) +
                       static_cast<int>(bad.dtype()) + static_cast<int64_t>(bad.shape().size()) + none.numel() +
                       static_cast<int64_t>(none.shape().size());
        std::exit(bad.ok() || sink < -1000000 ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

// The original operands are untouched by a failed op.
TEST(PropagationTest, FailedOpLeavesInputsUsable) {
  HostArray a = RandomHost({2, 3});
  Tensor t = ToTensor(a);
  ASSERT_FALSE(t.Reshape({4}).ok());
  ASSERT_FALSE((t + Rand({3, 2})).ok());
  ExpectClose(t + 1.0, Map(a, [](double x) { return x + 1; }));
}

}  // namespace
}  // namespace petabox
