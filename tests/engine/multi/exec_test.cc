// Concurrent execution across devices: the dependencies between ops through their buffers,
// lanes, and a multi-device schedule realized (and replayed by a Jit) with the same values
// as one device computes.
#include "engine/multi_exec.h"

#include <gtest/gtest.h>

#include "devices/registry.h"
#include "engine/jit.h"
#include "tests/engine/multi/multi_test_util.h"

namespace petabox {
namespace {

using multitest::Read;

std::shared_ptr<Buffer> NewBuffer() {
  return *Buffer::Allocate(*DeviceRegistry::Global().Get("CPU:0"), DType::kFloat32, 1);
}

TEST(MultiExecTest, DependenciesFollowTheBuffers) {
  auto a = NewBuffer(), b = NewBuffer(), c = NewBuffer(), d = NewBuffer();
  // op0 writes a; op1 writes b from a; op2 writes c from a; op3 overwrites a (after op1 and
  // op2 read it); op4 writes d from b and c; op5 writes b again (after op4 read it).
  std::vector<std::vector<std::shared_ptr<Buffer>>> buffers = {{a}, {b, a}, {c, a}, {a, d}, {d, b, c}, {b}};
  std::vector<std::vector<size_t>> deps = OpDependencies(buffers);
  EXPECT_EQ(deps[0], (std::vector<size_t>{}));
  EXPECT_EQ(deps[1], (std::vector<size_t>{0}));
  EXPECT_EQ(deps[2], (std::vector<size_t>{0}));
  EXPECT_EQ(deps[3], (std::vector<size_t>{0, 1, 2}));          // write after write and after reads
  EXPECT_EQ(deps[4], (std::vector<size_t>{1, 2, 3}));          // reads b, c; d was read by op3
  EXPECT_EQ(deps[5], (std::vector<size_t>{1, 4}));             // b: last written by op1, read by op4
}

TEST(MultiExecTest, LanesSeparateKernelsAndCopies) {
  CapturedOp kernel, copy;
  kernel.device = copy.device = "CPU:1";
  copy.kind = CapturedOp::Kind::kCopy;
  EXPECT_EQ(LaneOf(kernel), "CPU:1");
  EXPECT_EQ(LaneOf(copy), "CPU:1 copy");
}

// Work on four devices in one schedule, with values moving between them, equals the same
// computation on one device; a Jit replays it (concurrently) with new inputs.
TEST(MultiExecTest, MultiDeviceGraphsMatchOneDevice) {
  auto step = [](const std::vector<Tensor>& in) -> StatusOr<std::vector<Tensor>> {
    std::vector<Tensor> parts;
    for (int d = 0; d < 4; ++d) {
      const std::string dev = "CPU:" + std::to_string(d);
      Tensor x = in[0].To(dev).Mul(static_cast<double>(d + 1)).Exp();
      parts.push_back(x.Sum({1}).To("CPU:0"));
    }
    Tensor out = Tensor::Stack(parts, 0).Matmul(in[1]).Contiguous();
    PB_RETURN_IF_ERROR(out.Realize());
    return std::vector<Tensor>{out};
  };
  auto reference = [](const Tensor& x, const Tensor& w) {
    std::vector<Tensor> parts;
    for (int d = 0; d < 4; ++d) parts.push_back(x.Mul(static_cast<double>(d + 1)).Exp().Sum({1}));
    return Tensor::Stack(parts, 0).Matmul(w);
  };
  Jit jit(step);
  for (int i = 0; i < 4; ++i) {
    // On CPU:0 whatever the default device is (CUDA:0 on the device machine).
    Tensor x = Tensor::Rand({3, 5}, 10 + i).Mul(0.1).To("CPU:0"), w = Tensor::Rand({3, 2}, 20 + i).To("CPU:0");
    StatusOr<std::vector<Tensor>> got = jit.Run({x, w});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_LE(multitest::MaxDiff(Read((*got)[0]), Read(reference(x, w))), 1e-5) << "call " << i;
  }
  EXPECT_TRUE(jit.captured());
}

}  // namespace
}  // namespace petabox
