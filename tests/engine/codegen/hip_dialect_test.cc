// The HIP dialect: what its kernels look like when lowered for a HIP device (no device
// needed). hip_compile_test.cc compiles them.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/codegen/kernel.h"
#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

// The source of the last kernel of `t`'s schedule, lowered for a gfx1100 HIP device.
std::string HipSourceOf(const Tensor& t) {
  DeviceProperties props;
  props.name = "HIP:0";
  props.kind = "HIP";
  props.arch = "gfx1100";
  props.dialect = "hip";
  StatusOr<std::vector<ScheduleItem>> items = CreateSchedule({t.Contiguous().node()});
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  if (!items.ok() || items->empty()) return "";
  Kernel kernel(items->back().ast, props);
  ApplyHeuristics(kernel);
  return Render(Linearize(kernel), HipDialect());
}

Tensor CpuRand(const Shape& shape, uint64_t seed, DType dtype = DType::kFloat32) {
  Rng rng(seed);
  return Tensor::Rand(shape, rng, dtype, "CPU");
}

bool Has(const std::string& source, const std::string& text) {
  return source.find(text) != std::string::npos;
}

TEST(HipDialectTest, IsFoundByDeviceDialectName) {
  EXPECT_EQ(FindDialect("hip"), &HipDialect());
  EXPECT_EQ(HipDialect().name, "hip");
}

TEST(HipDialectTest, KernelsAreExternCGlobalWithLaunchBoundsAndOneThreadPerElement) {
  std::string src = HipSourceOf(CpuRand({8, 16}, 1) * CpuRand({8, 16}, 2) + 1.0);
  EXPECT_TRUE(Has(src, "extern \"C\" __global__ void __launch_bounds__(256) ")) << src;
  EXPECT_TRUE(Has(src, "float* __restrict__ data0, const float* __restrict__ data1")) << src;
  EXPECT_TRUE(Has(src, "const int64_t gidx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;")) << src;
  EXPECT_TRUE(Has(src, "if (gidx < 128) {")) << src;
}

TEST(HipDialectTest, NoPtxAndNoCudaOnlyIntrinsics) {
  for (DType dt : {DType::kFloat16, DType::kBFloat16}) {
    std::string src = HipSourceOf((CpuRand({4, 8}, 3, dt) * 2.0).Max({1}));
    for (const char* cuda_only : {"asm(", "cvt.", "__int_as_float", "__float_as_uint", "__uint_as_float",
                                  "memcpy", "__half"}) {
      EXPECT_FALSE(Has(src, cuda_only)) << cuda_only << " in\n" << src;
    }
    EXPECT_TRUE(Has(src, "__builtin_inff()")) << src;  // the max reduce starts at -inf
  }
}

TEST(HipDialectTest, HalfAndBFloat16AreStored16BitAndComputedInFloat) {
  std::string half = HipSourceOf(CpuRand({4, 8}, 4, DType::kFloat16) + 1.0);
  EXPECT_TRUE(Has(half, "uint16_t* __restrict__ data0")) << half;
  EXPECT_TRUE(Has(half, "pb_h2f(data1[")) << half;
  EXPECT_TRUE(Has(half, "= pb_f2h(")) << half;
  EXPECT_TRUE(Has(half, "__builtin_bit_cast(_Float16, h)")) << half;  // clang's native half
  std::string bf16 = HipSourceOf(CpuRand({4, 8}, 5, DType::kBFloat16) + 1.0);
  EXPECT_TRUE(Has(bf16, "pb_bf2f(data1[")) << bf16;
  EXPECT_TRUE(Has(bf16, "= pb_f2bf(")) << bf16;
}

TEST(HipDialectTest, PreludeDeclaresIntegerTypesOnlyUnderHiprtc) {
  const std::string& prelude = HipDialect().prelude;
  ASSERT_EQ(prelude.rfind("#if defined(__HIPCC_RTC__)\n", 0), 0u) << prelude;
  const size_t end = prelude.find("#endif\n");
  ASSERT_NE(end, std::string::npos);
  // ROCm 5's hiprtc header declares int64_t as long long: the prelude must say the same.
  EXPECT_TRUE(Has(prelude.substr(0, end), "typedef signed long long int64_t;"));
  EXPECT_TRUE(Has(prelude.substr(0, end), "typedef unsigned short uint16_t;"));
}

TEST(HipDialectTest, GroupedReducesUseSharedMemoryAndBarriers) {
  std::string src = HipSourceOf(CpuRand({4, 4096}, 8).Sum({1}));
  EXPECT_TRUE(Has(src, "__shared__ float ")) << src;
  EXPECT_TRUE(Has(src, "__syncthreads();")) << src;
}

TEST(HipDialectTest, MatmulIsRegisterTiledWithASerialReduceLoop) {
  std::string src = HipSourceOf(CpuRand({64, 64}, 6).Matmul(CpuRand({64, 64}, 7)));
  EXPECT_TRUE(Has(src, "acc")) << src;
  EXPECT_TRUE(Has(src, "for (int64_t r")) << src;
  EXPECT_FALSE(Has(src, "typedef float pb_floatx")) << src;  // scalar per thread, no vectors
}

}  // namespace
}  // namespace petabox
