// The tensor-core GEMM kernels, run on the CPU: each kernel is rendered exactly as for a CUDA
// device, except that the CUDA prelude and the PTX intrinsics are replaced by the host
// emulation in cuda_emulator.h; compiled with the system C++ compiler and run over the
// kernel's real input buffers; its output is compared with a float64 loop written here.
// Covers every copy layout, every tile shape the heuristics pick, float16 and bfloat16,
// sizes that divide no tile, a batch, a strided padded convolution and a fused epilogue.
#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/tc/gemm_source.h"
#include "engine/realize.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"
#include "tests/engine/codegen/tc/cuda_emulator.h"

namespace petabox {
namespace {

namespace fs = std::filesystem;

Tensor RandReal(const Shape& shape, uint64_t seed, DType dtype) {
  Tensor t = (Tensor::Rand(shape, seed, DType::kFloat32) * 2.0 - 1.0).Cast(dtype);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

struct Found {
  std::optional<GemmPlan> plan;
  std::vector<NodeRef> inputs;
};

// The GEMM plan of the last reduce kernel of t's schedule, its inputs realized.
Found PlanOf(const Tensor& t, const Dialect& dialect) {
  Found f;
  StatusOr<std::vector<ScheduleItem>> items = CreateSchedule({t.node()});
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  for (auto it = items->rbegin(); it != items->rend(); ++it) {
    if (it->kind != ScheduleItem::Kind::kKernel || !it->ast->HasReduce()) continue;
    EXPECT_TRUE(Realize(it->inputs).ok());
    f.inputs = it->inputs;
    DeviceProperties props;
    props.name = "GPU:0", props.kind = "GPU", props.dialect = dialect.name;
    Kernel kernel(it->ast, props);
    kernel.Normalize();
    f.plan = MatchGemm(kernel, dialect);
    break;
  }
  return f;
}

// The vendor under test: its renderer dialect and its tensor-core dialect.
struct Vendor {
  const Dialect* dialect;
  const TensorCoreDialect* tc;
};
const Vendor kCuda{&CudaDialect(), &CudaMmaSync()};
const Vendor kHip{&HipDialect(), &HipWmma()};

std::string EmulatedSource(const GemmPlan& plan, const GemmTiles& tiles, const Vendor& vendor) {
  Dialect dialect = *vendor.dialect;
  dialect.prelude = kCudaEmulator;
  TensorCoreDialect tc = *vendor.tc;
  tc.intrinsics.clear();
  tc.signature = "extern \"C\" void {name}({params})";
  GemmKernel k = RenderGemm(plan, tiles, dialect, tc);
  std::string args;
  for (size_t b = 0; b < plan.buf_dtypes.size(); ++b) {
    std::string type = dialect.types[static_cast<int>(plan.buf_dtypes[b])].storage;
    args += (b ? ", " : "") + std::string(b ? "(const " : "(") + type + "*)bufs[" + std::to_string(b) + "]";
  }
  return k.source + "extern \"C\" void pb_run(void** bufs, int gx, int gy, int threads) {\n  pb_launch(gx, gy, threads, " +
         std::to_string(tiles.SharedBytes(plan.a.dtype)) + ", [&] { " +
         k.linear.name + "(" + args + "); });\n}\n";
}

// Compiles and runs the kernel; returns the output buffer's elements as doubles.
std::vector<double> RunEmulated(const GemmPlan& plan, const GemmTiles& tiles, const Vendor& vendor,
                                const std::vector<NodeRef>& inputs, int64_t out_elems) {
  const fs::path dir = fs::temp_directory_path() / ("petabox_gemm_emu_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path src = dir / (plan.name + ".cc"), lib = dir / (plan.name + ".so");
  std::ofstream(src) << EmulatedSource(plan, tiles, vendor);
  const std::string cmd = "c++ -std=c++20 -O1 -w -shared -fPIC -pthread -o '" + lib.string() + "' '" + src.string() +
                          "' > '" + (dir / "log").string() + "' 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream log(dir / "log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "emulated kernel does not compile:\n" << text.substr(0, 4000);
    return {};
  }
  void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(handle, nullptr) << dlerror();
  auto run = reinterpret_cast<void (*)(void**, int, int, int)>(dlsym(handle, "pb_run"));
  std::vector<std::vector<uint8_t>> host;
  // Every byte 0xff (a NaN in each type): elements the kernel never stores show up.
  std::vector<uint8_t> out(out_elems * ItemSize(plan.out_dtype), 0xff);
  std::vector<void*> bufs{out.data()};
  for (const NodeRef& n : inputs) {
    std::shared_ptr<Buffer> b = n->buffer();
    host.emplace_back(b->bytes());
    EXPECT_TRUE(b->CopyOut(host.back().data(), b->bytes()).ok());
    bufs.push_back(host.back().data());
  }
  const int threads = tiles.Threads(32);
  const int64_t blocks = (plan.m + tiles.bm - 1) / tiles.bm * ((plan.n + tiles.bn - 1) / tiles.bn);
  run(bufs.data(), static_cast<int>(blocks), static_cast<int>(plan.batch), threads);
  dlclose(handle);
  fs::remove_all(dir);
  Tensor t = Tensor::FromData(out.data(), {out_elems}, plan.out_dtype, "CPU");
  return t.ToDoubles().value();
}

void ExpectClose(const std::vector<double>& got, const std::vector<double>& want, const std::vector<double>& scale,
                 double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * (scale[i] + 1e-3)) << "element " << i << " of " << got.size();
}

struct Case {
  const char* name;
  int64_t batch, m, k, n;
  bool ta, tb;
  DType dtype;
  GemmTiles tiles;
  Vendor vendor = kCuda;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GemmEmulatedTest : public ::testing::TestWithParam<Case> {};

TEST_P(GemmEmulatedTest, MatchesFloat64Loop) {
  const Case& c = GetParam();
  Tensor a = RandReal(c.ta ? Shape{c.batch, c.k, c.m} : Shape{c.batch, c.m, c.k}, 7 + c.m, c.dtype);
  Tensor b = RandReal(c.tb ? Shape{c.batch, c.n, c.k} : Shape{c.batch, c.k, c.n}, 9 + c.n, c.dtype);
  Found f = PlanOf((c.ta ? a.Transpose() : a).Matmul(c.tb ? b.Transpose() : b), *c.vendor.dialect);
  ASSERT_TRUE(f.plan.has_value());
  std::vector<double> got = RunEmulated(*f.plan, c.tiles, c.vendor, f.inputs, c.batch * c.m * c.n);
  std::vector<double> av = a.ToDoubles().value(), bv = b.ToDoubles().value();
  std::vector<double> want(got.size(), 0.0), scale(got.size(), 0.0);
  for (int64_t q = 0; q < c.batch; ++q)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j)
        for (int64_t l = 0; l < c.k; ++l) {
          double x = c.ta ? av[(q * c.k + l) * c.m + i] : av[(q * c.m + i) * c.k + l];
          double y = c.tb ? bv[(q * c.n + j) * c.k + l] : bv[(q * c.k + l) * c.n + j];
          want[(q * c.m + i) * c.n + j] += x * y;
          scale[(q * c.m + i) * c.n + j] += std::abs(x * y);
        }
  ExpectClose(got, want, scale, c.dtype == DType::kBFloat16 ? 1e-2 : c.dtype == DType::kFloat16 ? 2e-3 : 1e-5);
}

constexpr GemmTiles kBig{128, 256, 32, 2, 4, 3}, kMedium{128, 128, 32, 2, 4, 4}, kSmall{64, 64, 32, 2, 2, 3};
constexpr GemmTiles kHipBig{128, 256, 32, 2, 4, 1}, kHipSmall{64, 64, 32, 2, 2, 1};
constexpr GemmTiles kSimt{128, 128, 8, 2, 4, 2}, kSimtSmall{64, 64, 8, 1, 2, 2};

INSTANTIATE_TEST_SUITE_P(
    Layouts, GemmEmulatedTest,
    ::testing::Values(Case{"nn_k_contiguous_b_generic_mn", 1, 100, 72, 130, false, false, DType::kBFloat16, kSmall},
                      Case{"nt_both_k_contiguous_f16", 1, 150, 136, 96, false, true, DType::kFloat16, kMedium},
                      Case{"tn_both_mn_contiguous", 1, 136, 48, 264, true, false, DType::kBFloat16, kBig},
                      Case{"odd_generic", 1, 37, 29, 41, false, false, DType::kFloat16, kSmall},
                      Case{"batched", 3, 40, 56, 24, false, false, DType::kBFloat16, kSmall},
                      Case{"hip_wmma_nn", 1, 100, 72, 130, false, false, DType::kBFloat16, kHipSmall, kHip},
                      Case{"hip_wmma_tn_f16", 1, 136, 48, 264, true, false, DType::kFloat16, kHipBig, kHip},
                      Case{"hip_wmma_odd_batched", 2, 37, 29, 41, false, true, DType::kBFloat16, kHipSmall, kHip},
                      Case{"f32_nn", 1, 150, 72, 136, false, false, DType::kFloat32, kSimt},
                      Case{"f32_tn_odd", 1, 37, 29, 41, true, false, DType::kFloat32, kSimtSmall},
                      Case{"f32_nt_batched", 2, 70, 36, 66, false, true, DType::kFloat32, kSimtSmall},
                      Case{"hip_f32_nn", 1, 100, 40, 72, false, false, DType::kFloat32, kSimtSmall, kHip}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(GemmEmulatedConvTest, StridedPaddedConvolutionWithBiasAndRelu) {
  const int64_t n = 2, ci = 8, h = 11, w = 10, co = 24, kk = 3, stride = 2;
  Tensor x = RandReal({n, ci, h, w}, 31, DType::kBFloat16), f = RandReal({co, ci, kk, kk}, 32, DType::kBFloat16);
  Tensor bias = RandReal({co}, 33, DType::kBFloat16);
  Found found = PlanOf(x.Conv2d(f, bias, {stride, stride}, {1, 1}).Relu(), CudaDialect());
  ASSERT_TRUE(found.plan.has_value());
  const int64_t oh = (h + 2 - kk) / stride + 1, ow = (w + 2 - kk) / stride + 1;
  std::vector<double> got = RunEmulated(*found.plan, kSmall, kCuda, found.inputs, n * co * oh * ow);
  std::vector<double> xv = x.ToDoubles().value(), fv = f.ToDoubles().value(), bv = bias.ToDoubles().value();
  std::vector<double> want(got.size()), scale(got.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t p = 0; p < oh; ++p)
        for (int64_t q = 0; q < ow; ++q) {
          double s = bv[o], sc = std::abs(bv[o]);
          for (int64_t c = 0; c < ci; ++c)
            for (int64_t i = 0; i < kk; ++i)
              for (int64_t j = 0; j < kk; ++j) {
                int64_t yy = p * stride + i - 1, zz = q * stride + j - 1;
                if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                double v = xv[((b * ci + c) * h + yy) * w + zz] * fv[((o * ci + c) * kk + i) * kk + j];
                s += v, sc += std::abs(v);
              }
          want[((b * co + o) * oh + p) * ow + q] = std::max(s, 0.0);
          scale[((b * co + o) * oh + p) * ow + q] = sc;
        }
  ExpectClose(got, want, scale, 1e-2);
}

}  // namespace
}  // namespace petabox
