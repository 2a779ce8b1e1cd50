// All-reduce on the virtual CPU devices: ring, two-shot and direct, many sizes (1 element, sizes not
// divisible by the device count, ~1 MB), 2, 3 and 6 devices, sum and max, reduced in
// bfloat16; every device gets the same bits. The same on all CUDA devices of a machine with
// two or more (the device machine; skipped elsewhere).
#include "engine/multi_allreduce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "engine/exec_stats.h"
#include "devices/registry.h"
#include "engine/realize.h"
#include "tests/engine/multi/multi_test_util.h"

namespace petabox {
namespace {

using multitest::CpuDevices;
using multitest::MaxDiff;
using multitest::Ramp;
using multitest::Read;
using Algorithm = AllReduceOptions::Algorithm;

struct Inputs {
  std::vector<Tensor> tensors;
  std::vector<std::vector<float>> values;
};

Inputs MakeInputs(const std::vector<std::string>& devices, const Shape& shape) {
  Inputs in;
  for (size_t d = 0; d < devices.size(); ++d) {
    in.values.push_back(Ramp(Product(shape), static_cast<int>(d)));
    in.tensors.push_back(Tensor::FromVector(in.values.back(), shape, DType::kFloat32, devices[d]));
  }
  return in;
}

Inputs MakeInputs(int devices, const Shape& shape) { return MakeInputs(CpuDevices(devices), shape); }

std::vector<float> HostReduce(const Inputs& in, ReduceOp op) {
  std::vector<float> out = in.values[0];
  for (size_t d = 1; d < in.values.size(); ++d)
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = op == ReduceOp::kSum ? out[i] + in.values[d][i] : std::max(out[i], in.values[d][i]);
  return out;
}

// Realizes the results together and checks each against the host reduction, and that all
// devices hold the same bits.
void ExpectAllReduced(const Inputs& in, const AllReduceOptions& options, double tolerance = 0) {
  StatusOr<std::vector<Tensor>> out = AllReduce(in.tensors, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), in.tensors.size());
  std::vector<Tensor*> all;
  for (Tensor& t : *out) all.push_back(&t);
  ASSERT_TRUE(RealizeAll(all).ok());
  const std::vector<float> want = HostReduce(in, options.op);
  const std::vector<float> first = Read((*out)[0]);
  EXPECT_LE(MaxDiff(first, want), tolerance);
  for (size_t d = 0; d < out->size(); ++d) {
    EXPECT_EQ((*out)[d].device(), in.tensors[d].device());
    EXPECT_EQ((*out)[d].shape(), in.tensors[d].shape());
    EXPECT_EQ(Read((*out)[d]), first) << "device " << d << " differs from device 0";
  }
}

class AllReduceSizes : public ::testing::TestWithParam<std::tuple<int, int64_t, Algorithm>> {};

TEST_P(AllReduceSizes, SumMatchesTheHost) {
  auto [devices, numel, algorithm] = GetParam();
  AllReduceOptions options;
  options.algorithm = algorithm;
  ExpectAllReduced(MakeInputs(devices, {numel}), options);
}

std::string SizeName(const ::testing::TestParamInfo<std::tuple<int, int64_t, Algorithm>>& info) {
  auto [devices, numel, algorithm] = info.param;
  const char* name = algorithm == Algorithm::kRing ? "_ring" : algorithm == Algorithm::kTwoShot ? "_twoshot" : "_direct";
  return std::to_string(devices) + "dev_" + std::to_string(numel) + name;
}

INSTANTIATE_TEST_SUITE_P(Multi, AllReduceSizes,
                         ::testing::Combine(::testing::Values(2, 3, 6),
                                            ::testing::Values<int64_t>(1, 7, 1001, 262147),
                                            ::testing::Values(Algorithm::kRing, Algorithm::kTwoShot, Algorithm::kDirect)),
                         SizeName);

TEST(AllReduceTest, RingPiecesAndShapesAreKept) {
  AllReduceOptions options;
  options.algorithm = Algorithm::kRing;
  options.piece_bytes = 40;  // 10 floats: several pieces per chunk
  ExpectAllReduced(MakeInputs(3, {7, 11}), options);
  ExpectAllReduced(MakeInputs(6, {5}), options);  // one device gets no chunk
}

TEST(AllReduceTest, MaxAndAutoChoice) {
  AllReduceOptions options;
  options.op = ReduceOp::kMax;
  options.large_min_bytes = 64;
  ExpectAllReduced(MakeInputs(3, {4, 5}), options);     // 80 bytes: two-shot
  ExpectAllReduced(MakeInputs(3, {2, 3}), options);     // 24 bytes: direct
}

TEST(AllReduceTest, ReducesInBFloat16) {
  AllReduceOptions options;
  options.reduce_dtype = DType::kBFloat16;
  options.algorithm = Algorithm::kRing;
  Inputs in = MakeInputs(3, {40});
  StatusOr<std::vector<Tensor>> out = AllReduce(in.tensors, options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kFloat32);
  // Sums of three multiples of 1/64 in [-1, 1) need at most 9 significant bits: bfloat16 has 8.
  ExpectAllReduced(in, options, 2.0 / 64);
}

TEST(AllReduceTest, LazyInputsAndAGraphAround) {
  // Inputs computed on each device and a consumer after the all-reduce: one schedule.
  std::vector<Tensor> in;
  for (int d = 0; d < 3; ++d)
    in.push_back(Tensor::FromVector(Ramp(12, d), {3, 4}, DType::kFloat32, "CPU:" + std::to_string(d)).Mul(2.0).Sum({0}));
  StatusOr<std::vector<Tensor>> out = AllReduce(in, {.algorithm = Algorithm::kRing});
  ASSERT_TRUE(out.ok());
  Tensor y = (*out)[2].Add(1.0);
  std::vector<float> want(4, 1.0f);
  for (int d = 0; d < 3; ++d) {
    std::vector<float> v = Ramp(12, d);
    for (int i = 0; i < 12; ++i) want[i % 4] += 2 * v[i];
  }
  EXPECT_LE(MaxDiff(Read(y), want), 1e-6);
}

TEST(AllReduceTest, OneDeviceAndErrors) {
  Tensor t = Tensor::FromVector({1, 2}, {2}, DType::kFloat32, "CPU:0");
  StatusOr<std::vector<Tensor>> one = AllReduce({t});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Read((*one)[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(AllReduce({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AllReduce({t, t}).status().code(), StatusCode::kInvalidArgument);  // one device twice
  Tensor other = Tensor::FromVector({1, 2, 3}, {3}, DType::kFloat32, "CPU:1");
  EXPECT_EQ(AllReduce({t, other}).status().code(), StatusCode::kInvalidArgument);
  AllReduceOptions to_int;
  to_int.reduce_dtype = DType::kInt32;
  Tensor t1 = Tensor::FromVector({1, 2}, {2}, DType::kFloat32, "CPU:1");
  EXPECT_EQ(AllReduce({t, t1}, to_int).status().code(), StatusCode::kInvalidArgument);
}

TEST(AllReduceTest, RingSlicesAreCopiedWithoutExtraKernels) {
  // A ring over realized inputs: per piece and step one add kernel, and no other: the slices
  // that travel are copied straight from the input buffers, and the gathered pieces straight
  // into each device's result (no concatenation kernel).
  Inputs in = MakeInputs(3, {300});
  StatusOr<std::vector<Tensor>> out = AllReduce(in.tensors, {.algorithm = Algorithm::kRing, .piece_bytes = 0});
  ASSERT_TRUE(out.ok());
  std::vector<Tensor*> all;
  for (Tensor& t : *out) all.push_back(&t);
  const int64_t before = GetExecTotals().kernels;
  ASSERT_TRUE(RealizeAll(all).ok());
  EXPECT_EQ(GetExecTotals().kernels - before, 3 * 2);  // 3 chunks x 2 adds
}

// The CPU devices share host memory, so kernels read the other devices' values in place: a
// direct all-reduce runs one kernel per device and no copy; two-shot one reduce kernel per
// device reading the others' chunks in place, then copies of the reduced chunks into their
// places in every device's result (n - 1 from peers and one within the device), no kernel.
TEST(AllReduceTest, KernelsReadPeersInPlace) {
  struct Expect {
    Algorithm algorithm;
    int kernels, copies;
  };
  for (auto [algorithm, kernels, want_copies] : {Expect{Algorithm::kDirect, 3, 0}, Expect{Algorithm::kTwoShot, 3, 9}}) {
    Inputs in = MakeInputs(3, {300});
    StatusOr<std::vector<Tensor>> out = AllReduce(in.tensors, {.algorithm = algorithm});
    ASSERT_TRUE(out.ok());
    std::vector<Tensor*> all;
    for (Tensor& t : *out) all.push_back(&t);
    std::vector<CapturedOp> log;
    {
      CaptureScope scope(&log);
      ASSERT_TRUE(RealizeAll(all).ok());
    }
    int copies = 0, launched = 0;
    for (const CapturedOp& op : log) (op.kind == CapturedOp::Kind::kCopy ? copies : launched)++;
    EXPECT_EQ(copies, want_copies);
    EXPECT_EQ(launched, kernels);
    EXPECT_LE(MaxDiff(Read((*out)[1]), HostReduce(in, ReduceOp::kSum)), 0);
  }
}

// Peer copies into the results' ranges and kernels reading peers, on real GPUs: pieces
// smaller than a chunk, sizes not divisible by the device count.
TEST(AllReduceGpuTest, EveryAlgorithmOnAllCudaDevices) {
  std::vector<std::string> gpus;
  for (const std::string& d : DeviceRegistry::Global().Available())
    if (d.rfind("CUDA:", 0) == 0) gpus.push_back(d);
  if (gpus.size() < 2) GTEST_SKIP() << "needs two or more CUDA devices; this machine has " << gpus.size();
  for (int64_t numel : {int64_t{1}, int64_t{1001}, int64_t{262147}, int64_t{3000001}}) {
    for (Algorithm algorithm : {Algorithm::kRing, Algorithm::kTwoShot, Algorithm::kDirect}) {
      SCOPED_TRACE(std::to_string(numel) + " elements, algorithm " + std::to_string(static_cast<int>(algorithm)));
      ExpectAllReduced(MakeInputs(gpus, {numel}), {.algorithm = algorithm, .piece_bytes = int64_t{1} << 20});
    }
  }
}

TEST(AllReduceTest, BusBandwidth) {
  EXPECT_DOUBLE_EQ(AllReduceBusBandwidth(1000, 4, 1.0), 1500.0);
  EXPECT_DOUBLE_EQ(AllReduceBusBandwidth(1000, 1, 1.0), 0.0);
}

}  // namespace
}  // namespace petabox
