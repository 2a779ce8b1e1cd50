// Creation ops (zeros, ones, full, arange, eye, empty, rand, randn), data in and out
// (FromVector/FromData round trips for every dtype, Item), devices, Assign, RealizeAll and
// the execution counters.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/registry.h"
#include "engine/exec_stats.h"
#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox {
namespace {

using namespace testref;  // NOLINT: test-local reference

// ---------------------------------------------------------------- constant fills

struct FillCase {
  const char* name;
  Shape shape;
  DType dtype;
};

class FillTest : public ::testing::TestWithParam<FillCase> {};

TEST_P(FillTest, ZerosOnesFull) {
  const FillCase& c = GetParam();
  Tensor z = Tensor::Zeros(c.shape, c.dtype), o = Tensor::Ones(c.shape, c.dtype);
  Tensor f = Tensor::Full(c.shape, -3, c.dtype);
  EXPECT_EQ(z.dtype(), c.dtype);
  EXPECT_EQ(f.dtype(), c.dtype);
  ExpectClose(z, HostArray::Filled(c.shape, 0), 0, 0);
  ExpectClose(o, HostArray::Filled(c.shape, 1), 0, 0);
  ExpectClose(f, HostArray::Filled(c.shape, -3), 0, 0);
}

INSTANTIATE_TEST_SUITE_P(Cases, FillTest,
                         ::testing::Values(FillCase{"Size1Float32", {1}, DType::kFloat32},
                                           FillCase{"Odd3x5Float32", {3, 5}, DType::kFloat32},
                                           FillCase{"Int32", {2, 1, 3}, DType::kInt32},
                                           FillCase{"Float16", {7}, DType::kFloat16}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FullTest, FractionalValueAndComputeOnIt) {
  ExpectClose(Tensor::Full({2, 3}, 2.5), HostArray::Filled({2, 3}, 2.5), 0, 0);
  HostArray a = RandomHost({2, 3});
  ExpectClose(Tensor::Full({2, 3}, 2.5) * ToTensor(a), Map(a, [](double x) { return 2.5 * x; }));
}

TEST(EmptyTest, ShapeAndDtype) {
  Tensor e = Tensor::Empty({4, 5}, DType::kInt32);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e.shape(), (Shape{4, 5}));
  EXPECT_EQ(e.dtype(), DType::kInt32);
  EXPECT_EQ(e.numel(), 20);
  EXPECT_EQ(e.ndim(), 2);
}

// ---------------------------------------------------------------- arange, eye

HostArray ArangeRef(double start, double stop, double step) {
  HostArray out{{0}, {}};
  for (double v = start; step > 0 ? v < stop : v > stop; v += step) out.data.push_back(v);
  out.shape = {out.numel()};
  return out;
}

TEST(ArangeTest, Ranges) {
  ExpectClose(Tensor::Arange(0, 5), ArangeRef(0, 5, 1), 0, 0);
  ExpectClose(Tensor::Arange(2, 11, 3), ArangeRef(2, 11, 3), 0, 0);
  ExpectClose(Tensor::Arange(5, 0, -1.5), ArangeRef(5, 0, -1.5), 1e-6);
  EXPECT_EQ(Tensor::Arange(0, 1, 0.25).shape(), (Shape{4}));
  ExpectClose(Tensor::Arange(0, 1, 0.25), HostArray{{4}, {0, 0.25, 0.5, 0.75}}, 1e-6);
}

TEST(ArangeTest, Int32) {
  Tensor t = Tensor::Arange(-3, 4, 1, DType::kInt32);
  EXPECT_EQ(t.dtype(), DType::kInt32);
  ExpectClose(t, ArangeRef(-3, 4, 1), 0, 0);
}

TEST(EyeTest, Sizes) {
  for (int64_t n : {1, 4}) {
    SCOPED_TRACE(n);
    ExpectClose(Tensor::Eye(n), Generate({n, n}, [](const Index& i) { return i[0] == i[1] ? 1.0 : 0.0; }), 0, 0);
  }
  Tensor e = Tensor::Eye(3, DType::kInt32);
  EXPECT_EQ(e.dtype(), DType::kInt32);
  ExpectClose(e, Generate({3, 3}, [](const Index& i) { return i[0] == i[1] ? 1.0 : 0.0; }), 0, 0);
}

// ---------------------------------------------------------------- rand, randn

std::vector<double> Values(const Tensor& t) {
  StatusOr<std::vector<double>> v = t.ToDoubles();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::vector<double>{};
}

void MeanVar(const std::vector<double>& v, double* mean, double* var) {
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  *mean = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - *mean) * (x - *mean);
  *var = s2 / static_cast<double>(v.size());
}

TEST(RandTest, UniformStatistics) {
  Tensor t = Tensor::Rand({100, 100}, NextSeed());
  EXPECT_EQ(t.shape(), (Shape{100, 100}));
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  std::vector<double> v = Values(t);
  ASSERT_EQ(v.size(), 10000u);
  for (double x : v) ASSERT_TRUE(x >= 0 && x < 1) << x;
  double mean, var;
  MeanVar(v, &mean, &var);
  EXPECT_NEAR(mean, 0.5, 0.02);
  EXPECT_NEAR(var, 1.0 / 12, 0.01);
  // Every tenth of [0, 1) gets about 1000 of the values.
  std::vector<int> bins(10, 0);
  for (double x : v) ++bins[static_cast<int>(x * 10)];
  for (int b : bins) EXPECT_NEAR(b, 1000, 150);
}

TEST(RandTest, NormalStatistics) {
  std::vector<double> v = Values(Tensor::Randn({10000}, NextSeed()));
  ASSERT_EQ(v.size(), 10000u);
  double mean, var;
  MeanVar(v, &mean, &var);
  EXPECT_NEAR(mean, 0, 0.05);
  EXPECT_NEAR(var, 1, 0.06);
  int within1 = 0;
  for (double x : v) within1 += std::fabs(x) < 1;
  EXPECT_NEAR(within1 / 10000.0, 0.6827, 0.02);
}

TEST(RandTest, DeterministicBySeed) {
  uint64_t seed = NextSeed();
  EXPECT_EQ(Values(Tensor::Rand({3, 7}, seed)), Values(Tensor::Rand({3, 7}, seed)));
  EXPECT_NE(Values(Tensor::Rand({3, 7}, seed)), Values(Tensor::Rand({3, 7}, seed + 1)));
  EXPECT_EQ(Values(Tensor::Randn({17}, seed)), Values(Tensor::Randn({17}, seed)));
  EXPECT_NE(Values(Tensor::Randn({17}, seed)), Values(Tensor::Randn({17}, seed + 1)));
}

TEST(RandTest, RngOverloadAdvancesState) {
  uint64_t seed = NextSeed();
  Rng rng(seed);
  std::vector<double> first = Values(Tensor::Rand({5, 3}, rng));
  uint64_t after_first = rng.state();
  EXPECT_NE(after_first, seed);
  std::vector<double> second = Values(Tensor::Rand({5, 3}, rng));
  EXPECT_NE(first, second);
  Rng again(seed);
  EXPECT_EQ(Values(Tensor::Rand({5, 3}, again)), first);
  EXPECT_EQ(again.state(), after_first);
  Rng n1(seed), n2(seed);
  EXPECT_EQ(Values(Tensor::Randn({9}, n1)), Values(Tensor::Randn({9}, n2)));
}

TEST(RandTest, Float16InRange) {
  Tensor t = Tensor::Rand({200}, NextSeed(), DType::kFloat16);
  EXPECT_EQ(t.dtype(), DType::kFloat16);
  for (double x : Values(t)) ASSERT_TRUE(x >= 0 && x <= 1) << x;
}

// ---------------------------------------------------------------- data in and out

struct RoundTripCase {
  const char* name;
  DType dtype;
  double lo, hi;
  bool integer;
  double rtol;  // relative error of storing the value
};

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, FromVectorToDoublesAndFloats) {
  const RoundTripCase& c = GetParam();
  for (const Shape& shape : {Shape{1}, Shape{3, 7}, Shape{2, 1, 5}}) {
    SCOPED_TRACE(ShapeStr(shape));
    HostArray a = c.integer ? RandomIntHost(shape, static_cast<int64_t>(c.lo), static_cast<int64_t>(c.hi))
                            : RandomHost(shape, c.lo, c.hi);
    Tensor t = ToTensor(a, c.dtype);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t.dtype(), c.dtype);
    EXPECT_EQ(t.shape(), shape);
    ExpectClose(t, a, c.rtol > 0 ? 1e-7 : 0, c.rtol);
    StatusOr<std::vector<float>> f = t.ToFloats();
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_EQ(static_cast<int64_t>(f->size()), a.numel());
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR((*f)[i], a.data[i], c.rtol * std::fabs(a.data[i]) + (c.rtol > 0 ? 1e-7 : 0)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RoundTripTest,
                         ::testing::Values(RoundTripCase{"Bool", DType::kBool, 0, 1, true, 0},
                                           RoundTripCase{"UInt8", DType::kUInt8, 0, 255, true, 0},
                                           RoundTripCase{"Int32", DType::kInt32, -100000, 100000, true, 0},
                                           RoundTripCase{"Int64", DType::kInt64, -1000000, 1000000, true, 0},
                                           RoundTripCase{"Float16", DType::kFloat16, -100, 100, false, 1.0 / 1024},
                                           RoundTripCase{"BFloat16", DType::kBFloat16, -100, 100, false, 1.0 / 128},
                                           RoundTripCase{"Float32", DType::kFloat32, -1e6, 1e6, false, 0}),
                         [](const auto& info) { return std::string(info.param.name); });

// Half-precision storage rounds to nearest even: exactly what the independent reference gives.
TEST(RoundTripTest, HalfRoundingIsNearestEven) {
  HostArray a = RandomHost({64}, -10.0, 10.0);
  ExpectClose(ToTensor(a, DType::kFloat16), Quantize(a, DType::kFloat16), 0, 0);
  ExpectClose(ToTensor(a, DType::kBFloat16), Quantize(a, DType::kBFloat16), 0, 0);
}

TEST(FromDataTest, RawInt32AndFloat16) {
  std::vector<int32_t> ints = {-7, 0, 3, 2147483647, -2147483647 - 1, 42};
  Tensor ti = Tensor::FromData(ints.data(), {2, 3}, DType::kInt32);
  ASSERT_TRUE(ti.ok()) << ti.status().ToString();
  ExpectClose(ti, HostArray{{2, 3}, {-7, 0, 3, 2147483647.0, -2147483648.0, 42}}, 0, 0);

  std::vector<uint16_t> halves = {0x3c00, 0xc000, 0x3555, 0x0001};  // 1, -2, ~0.33325, 2^-24
  Tensor th = Tensor::FromData(halves.data(), {4}, DType::kFloat16);
  ExpectClose(th, HostArray{{4}, {1, -2, 0.333251953125, std::ldexp(1.0, -24)}}, 0, 0);
}

TEST(FromVectorTest, ZeroDimScalar) {
  Tensor t = Tensor::FromVector({3.5f}, {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t.ndim(), 0);
  EXPECT_EQ(t.numel(), 1);
  StatusOr<double> v = t.Item();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 3.5);
  ExpectClose(t * 2.0, HostArray{{}, {7}}, 0, 0);
}

TEST(ItemTest, OneElementTensor) {
  StatusOr<double> v = Tensor::FromVector({-1.25f}, {1, 1}).Item();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, -1.25);
}

// ---------------------------------------------------------------- devices

TEST(DeviceTest, DefaultAndNamedDevices) {
  Tensor d = Tensor::Zeros({2});
  EXPECT_EQ(d.device(), DeviceRegistry::Global().DefaultDevice());
  Tensor n = Tensor::Ones({2}, DType::kFloat32, "cpu:1");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.device(), "CPU:1");
}

TEST(DeviceTest, ToAnotherDeviceAndComputeThere) {
  HostArray a = RandomHost({3, 4});
  Tensor moved = ToTensor(a).To("CPU:2");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved.device(), "CPU:2");
  ExpectClose(moved, a, 0, 0);
  Tensor out = moved.Transpose() + 1.0;
  EXPECT_EQ(out.device(), "CPU:2");
  ExpectClose(out, Map(Transpose(a), [](double x) { return x + 1; }));
}

// ---------------------------------------------------------------- assign, realize

TEST(AssignTest, WritesIntoRealizedBuffer) {
  HostArray a = RandomHost({3, 5}), b = RandomHost({3, 5});
  Tensor t = ToTensor(a);
  ASSERT_TRUE(t.Realize().ok());
  Tensor r = t.Assign(ToTensor(b) * 2.0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  HostArray want = Map(b, [](double x) { return 2 * x; });
  ExpectClose(r, want);
  ExpectClose(t, want);
}

TEST(RealizeTest, RealizeAllSharesWork) {
  HostArray a = RandomHost({4, 5});
  Tensor shared = ToTensor(a).Exp();
  Tensor s1 = shared.Sum({1}), s2 = shared.Max({0});
  ASSERT_TRUE(RealizeAll({&s1, &s2}).ok());
  HostArray e = Map(a, [](double x) { return std::exp(x); });
  ExpectClose(s1, Sum(e, {1}), 1e-5);
  ExpectClose(s2, Max(e, {0}), 1e-5);
}

TEST(RealizeTest, RealizedTensorRunsNoMoreKernels) {
  HostArray a = RandomHost({5, 3});
  Tensor t = ToTensor(a).Sigmoid() * 3.0;
  ASSERT_TRUE(t.Realize().ok());
  int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(t.Realize().ok());
  ExpectClose(t, Map(a, [](double x) { return 3 * Sigmoid(x); }));
  EXPECT_EQ(GetExecTotals().kernels, before);
}

// Elementwise chains fuse: a lazy engine computes (a * b + c).relu() in one kernel.
TEST(RealizeTest, ElementwiseChainIsOneKernel) {
  HostArray a = RandomHost({6, 7}), b = RandomHost({6, 7}), c = RandomHost({7});
  Tensor t = (ToTensor(a) * ToTensor(b) + ToTensor(c)).Relu();
  int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(t.Realize().ok());
  EXPECT_EQ(GetExecTotals().kernels - before, 1);
}

TEST(RealizeTest, CopiesShareTheValue) {
  HostArray a = RandomHost({3});
  Tensor t = ToTensor(a).Exp();
  Tensor copy = t;
  ASSERT_TRUE(copy.Realize().ok());
  int64_t before = GetExecTotals().kernels;
  ExpectClose(t, Map(a, [](double x) { return std::exp(x); }));
  EXPECT_EQ(GetExecTotals().kernels, before);
}

}  // namespace
}  // namespace petabox
