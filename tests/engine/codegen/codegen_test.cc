// Code generation: what the kernels look like, how FLOPs are counted, and the kernel cache.
#include <gtest/gtest.h>

#include "devices/registry.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/schedule/schedule.h"
#include "engine/exec_stats.h"
#include "engine/realize.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

std::string SourceOf(const Tensor& t) {
  Tensor root = t.Contiguous();
  auto items = CreateSchedule({root.node()});
  EXPECT_TRUE(items.ok());
  auto src = KernelSource(*items->back().ast);
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  return *src;
}

// The source checks look at the CPU (C) dialect, whatever the default device is.
Tensor CpuRand(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  return Tensor::Rand(shape, rng, DType::kFloat32, "CPU");
}

TEST(CodegenTest, ContiguousElementwiseIndexIsPlainLoopVariable) {
  Tensor a = CpuRand({8, 16}, 1), b = CpuRand({8, 16}, 2);
  std::string src = SourceOf(a * b + 1.0);
  EXPECT_NE(src.find("data1[g0]"), std::string::npos) << src;
  EXPECT_NE(src.find("data0[g0] ="), std::string::npos) << src;
}

TEST(CodegenTest, MatmulIsRegisterTiledNotANaiveLoop) {
  Tensor a = CpuRand({64, 64}, 3), b = CpuRand({64, 64}, 4);
  std::string src = SourceOf(a.Matmul(b));
  // Several accumulators (a register tile) and an unrolled reduce loop.
  EXPECT_NE(src.find("acc3"), std::string::npos) << src;
  EXPECT_NE(src.find("r2 < 16"), std::string::npos) << src;
}

TEST(CodegenTest, MatmulFlopsAreTwoMNK) {
  const int64_t m = 24, n = 40, k = 56;
  Tensor a = Tensor::Rand({m, k}, 5), b = Tensor::Rand({k, n}, 6);
  ASSERT_TRUE(a.Realize().ok());
  ASSERT_TRUE(b.Realize().ok());
  int64_t flops = 0;
  SetKernelObserver([&](const KernelRecord& r) { flops += r.flops; });
  ASSERT_TRUE(a.Matmul(b).Realize().ok());
  SetKernelObserver(nullptr);
  EXPECT_EQ(flops, 2 * m * n * k);
}

TEST(CodegenTest, WarmKernelCacheCompilesNothing) {
  // On the default device, whichever it is: its compiler must not run again.
  Device* device = *DeviceRegistry::Global().Get(DeviceRegistry::Global().DefaultDevice());
  Tensor x = Tensor::Rand({13, 7}, 7);
  ASSERT_TRUE((x * 3.0 - 2.0).Exp().Sum({0}).Realize().ok());
  int64_t compiles = device->compiler().compiles();
  // Same graph shape again (fresh data): the in-process and on-disk caches make it free.
  Tensor y = Tensor::Rand({13, 7}, 8);
  ASSERT_TRUE((y * 3.0 - 2.0).Exp().Sum({0}).Realize().ok());
  EXPECT_EQ(device->compiler().compiles(), compiles);
}

TEST(CodegenTest, HalfAndBFloat16ComputeInFloat) {
  for (DType dt : {DType::kFloat16, DType::kBFloat16}) {
    Tensor x = Tensor::FromVector({1.5f, -2.0f, 0.25f}, {3}, dt);
    auto v = (x * 2.0 + 1.0).ToFloats();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, (std::vector<float>{4.0f, -3.0f, 1.5f})) << Name(dt);
  }
}

// Kernels that loop over chunks of global[0] (host threads) tile for SIMD; the others (one
// thread per index) split a long reduction over a workgroup. The choice follows
// DeviceCapabilities::loops_over_chunks, whatever the device is called.
TEST(CodegenTest, HeuristicsFollowTheLoopsOverChunksCapability) {
  std::vector<float> values(16 * 4096, 0.5f);
  // On TRACE:0, which does not split reductions in the frontend: one reduce kernel.
  Tensor sum = Tensor::FromVector(values, {16, 4096}, DType::kFloat32, "TRACE:0").Sum({1});
  auto items = CreateSchedule({sum.Contiguous().node()});
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  auto groups = [&](bool loops_over_chunks) {
    DeviceProperties props;
    props.name = "TEST:0";
    props.capabilities.loops_over_chunks = loops_over_chunks;
    Kernel kernel(items->back().ast, props);
    ApplyHeuristics(kernel);
    int count = 0;
    for (AxisKind kind : kernel.kinds()) count += kind == AxisKind::kGroup;
    return count;
  };
  EXPECT_EQ(groups(false), 1);
  EXPECT_EQ(groups(true), 0);
}

}  // namespace
}  // namespace petabox
