// MatchGemm on the CPU: which kernels become tensor-core GEMMs, with which roles and copy
// layouts, and (the part that decides correctness on the GPU) whether the plan's index
// expressions compute the product: each plan is evaluated on the host over the kernel's
// real input buffers and compared with a naive float64 loop written here. The rendered CUDA
// source is compiled with nvcc for sm_80 and sm_89 where nvcc is installed.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/codegen/tc/gemm_source.h"
#include "engine/realize.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

// A realized random tensor.
Tensor RandReal(const Shape& shape, uint64_t seed, DType dtype) {
  Tensor t = Tensor::Rand(shape, seed, dtype);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

DeviceProperties CudaProps(const std::string& arch) {
  DeviceProperties p;
  p.name = "CUDA:0";
  p.kind = "CUDA";
  p.arch = arch;
  p.dialect = "cuda";
  p.compute_units = 128;
  return p;
}

// The last reduce kernel of t's schedule, with its inputs realized.
std::shared_ptr<const KernelAst> LastKernel(const Tensor& t, std::vector<NodeRef>* inputs) {
  StatusOr<std::vector<ScheduleItem>> items = CreateSchedule({t.node()});
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  if (!items.ok()) return nullptr;
  for (auto it = items->rbegin(); it != items->rend(); ++it) {
    if (it->kind != ScheduleItem::Kind::kKernel || !it->ast->HasReduce()) continue;
    EXPECT_TRUE(Realize(it->inputs).ok());
    *inputs = it->inputs;
    return it->ast;
  }
  ADD_FAILURE() << "no reduce kernel";
  return nullptr;
}

std::optional<GemmPlan> Plan(const std::shared_ptr<const KernelAst>& ast, const std::string& arch = "sm_89") {
  Kernel kernel(ast, CudaProps(arch));
  kernel.Normalize();
  return MatchGemm(kernel, CudaDialect());
}

std::vector<double> HostValues(const NodeRef& n) {
  std::shared_ptr<Buffer> b = n->buffer();
  std::vector<uint16_t> raw(b->bytes() / 2);
  EXPECT_TRUE(b->CopyOut(raw.data(), b->bytes()).ok());
  std::vector<double> v;
  for (uint16_t h : raw) {
    if (b->dtype() == DType::kBFloat16) {
      uint32_t u = static_cast<uint32_t>(h) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      v.push_back(f);
    } else {
      v.push_back(Tensor::FromData(&h, {1}, DType::kFloat16, "CPU").ToDoubles().value()[0]);
    }
  }
  return v;
}

// Output element index -> sum over K, computed from the plan's expressions.
std::map<int64_t, double> EvaluatePlan(const GemmPlan& p, const std::vector<NodeRef>& inputs) {
  std::vector<double> a = HostValues(inputs[p.a.buf - 1]), b = HostValues(inputs[p.b.buf - 1]);
  std::map<int64_t, double> out;
  std::map<std::string, int64_t> v;
  for (v["gb"] = 0; v["gb"] < p.batch; ++v["gb"])
    for (v["gm"] = 0; v["gm"] < p.m; ++v["gm"])
      for (v["gn"] = 0; v["gn"] < p.n; ++v["gn"]) {
        double acc = 0;
        for (v["gk"] = 0; v["gk"] < p.k; ++v["gk"]) {
          if (!sym::Eval(p.a.valid, v) || !sym::Eval(p.b.valid, v)) continue;
          acc += a.at(sym::Eval(p.a.index, v)) * b.at(sym::Eval(p.b.index, v));
        }
        EXPECT_TRUE(out.emplace(sym::Eval(p.out_index, v), acc).second) << "two outputs at one index";
      }
  return out;
}

std::vector<double> Values(const Tensor& t) {
  return t.ToDoubles().value();
}

// Naive (batched) matmul of row-major a (B, M, K) and b (B, K, N).
std::vector<double> NaiveMatmul(const std::vector<double>& a, const std::vector<double>& b, int64_t batch, int64_t m,
                                int64_t k, int64_t n) {
  std::vector<double> c(batch * m * n, 0.0);
  for (int64_t q = 0; q < batch; ++q)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t l = 0; l < k; ++l) c[(q * m + i) * n + j] += a[(q * m + i) * k + l] * b[(q * k + l) * n + j];
  return c;
}

void ExpectProduct(const GemmPlan& plan, const std::vector<NodeRef>& inputs, const std::vector<double>& want) {
  std::map<int64_t, double> got = EvaluatePlan(plan, inputs);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [index, value] : got) {
    ASSERT_LT(index, static_cast<int64_t>(want.size()));
    ASSERT_NEAR(value, want[index], 1e-9 * (1 + std::abs(want[index]))) << "output " << index;
  }
}

struct MatmulCase {
  const char* name;
  int64_t batch, m, k, n;
  bool a_transposed, b_transposed;
  GemmLayout la, lb;
};

void PrintTo(const MatmulCase& c, std::ostream* os) { *os << c.name; }

class GemmPlanMatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(GemmPlanMatmulTest, RolesLayoutsAndProduct) {
  const MatmulCase& c = GetParam();
  Shape as = c.a_transposed ? Shape{c.batch, c.k, c.m} : Shape{c.batch, c.m, c.k};
  Shape bs = c.b_transposed ? Shape{c.batch, c.n, c.k} : Shape{c.batch, c.k, c.n};
  Tensor a0 = RandReal(as, 11, DType::kBFloat16), b0 = RandReal(bs, 12, DType::kBFloat16);
  Tensor a = c.a_transposed ? a0.Transpose() : a0, b = c.b_transposed ? b0.Transpose() : b0;
  std::vector<NodeRef> inputs;
  auto ast = LastKernel(a.Matmul(b), &inputs);
  ASSERT_NE(ast, nullptr);
  std::optional<GemmPlan> plan = Plan(ast);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->batch, c.batch);
  EXPECT_EQ(plan->m, c.m);
  EXPECT_EQ(plan->n, c.n);
  EXPECT_EQ(plan->k, c.k);
  EXPECT_EQ(plan->a.layout, c.la);
  EXPECT_EQ(plan->b.layout, c.lb);
  EXPECT_EQ(plan->epilogue, "acc") << "a plain product stores the sum";
  ExpectProduct(*plan, inputs, NaiveMatmul(Values(a.Contiguous()), Values(b.Contiguous()), c.batch, c.m, c.k, c.n));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GemmPlanMatmulTest,
    ::testing::Values(MatmulCase{"nn", 1, 40, 32, 48, false, false, GemmLayout::kKContiguous, GemmLayout::kMnContiguous},
                      MatmulCase{"nt", 1, 40, 32, 48, false, true, GemmLayout::kKContiguous, GemmLayout::kKContiguous},
                      MatmulCase{"tn", 1, 40, 32, 48, true, false, GemmLayout::kMnContiguous, GemmLayout::kMnContiguous},
                      MatmulCase{"odd", 1, 37, 29, 41, false, false, GemmLayout::kGeneric, GemmLayout::kGenericMn},
                      MatmulCase{"batched", 3, 24, 40, 16, false, false, GemmLayout::kKContiguous,
                                 GemmLayout::kMnContiguous}),
    [](const auto& info) { return std::string(info.param.name); });

// Convolution as an implicit GEMM: M = images x output pixels, N = output channels,
// K = input channels x kernel window; the padded window is read element by element.
TEST(GemmPlanTest, ConvolutionIsAnImplicitGemm) {
  const int64_t n = 2, ci = 8, h = 9, w = 9, co = 16, kh = 3, kw = 3;
  Tensor x = RandReal({n, ci, h, w}, 21, DType::kBFloat16);
  Tensor f = RandReal({co, ci, kh, kw}, 22, DType::kBFloat16);
  std::vector<NodeRef> inputs;
  auto ast = LastKernel(x.Conv2d(f, Tensor(), {1, 1}, {1, 1}), &inputs);
  ASSERT_NE(ast, nullptr);
  std::optional<GemmPlan> plan = Plan(ast);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->m * plan->n * plan->batch, n * co * h * w);
  EXPECT_EQ(plan->k, ci * kh * kw);
  std::vector<double> xv = Values(x), fv = Values(f), want(n * co * h * w, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t z = 0; z < w; ++z)
          for (int64_t c = 0; c < ci; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t yy = y + i - 1, zz = z + j - 1;
                if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                want[((b * co + o) * h + y) * w + z] +=
                    xv[((b * ci + c) * h + yy) * w + zz] * fv[((o * ci + c) * kh + i) * kw + j];
              }
  ExpectProduct(*plan, inputs, want);
}

TEST(GemmPlanTest, EpilogueCarriesBiasAndActivation) {
  Tensor x = RandReal({32, 48}, 31, DType::kBFloat16);
  Tensor wt = RandReal({24, 48}, 32, DType::kBFloat16);
  Tensor bias = RandReal({24}, 33, DType::kBFloat16);
  std::vector<NodeRef> inputs;
  auto ast = LastKernel((x.Matmul(wt.Transpose()) + bias).Relu(), &inputs);
  ASSERT_NE(ast, nullptr);
  std::optional<GemmPlan> plan = Plan(ast);
  ASSERT_TRUE(plan.has_value()) << "the bias add and relu fuse into the matmul kernel as its epilogue";
  EXPECT_NE(plan->epilogue.find("acc"), std::string::npos) << plan->epilogue;
  EXPECT_NE(plan->epilogue.find("gn"), std::string::npos) << "the bias is read per column: " << plan->epilogue;
}

TEST(GemmPlanTest, Float32IsTiledOnTheCudaCores) {
  std::vector<NodeRef> inputs;
  Tensor f32 = RandReal({48, 32}, 41, DType::kFloat32);
  std::optional<GemmPlan> plan = Plan(LastKernel(f32.Matmul(f32.Transpose()), &inputs));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->a.dtype, DType::kFloat32);
  EXPECT_EQ(plan->a.layout, GemmLayout::kKContiguous);
  GemmKernel k = RenderGemm(*plan, ChooseTiles(*plan, 128, CudaMmaSync()), CudaDialect(), CudaMmaSync());
  EXPECT_EQ(k.linear.name.rfind("sgemm_", 0), 0u) << k.linear.name;
  EXPECT_EQ(k.source.find("pb_sgemm<"), k.source.rfind("pb_sgemm<")) << "one call, no tensor-core instruction used";
}

TEST(GemmPlanTest, OtherKernelsAreNotGemms) {
  std::vector<NodeRef> inputs;
  Tensor bf = RandReal({32, 32}, 42, DType::kBFloat16);
  Tensor h = RandReal({32, 32}, 43, DType::kFloat16);
  EXPECT_EQ(FindTensorCoreDialect(CudaProps("sm_75")), nullptr) << "mma.sync with bf16 needs sm_80";
  EXPECT_EQ(FindTensorCoreDialect(CudaProps("sm_89")), &CudaMmaSync());
  Tensor tiny = RandReal({8, 8}, 44, DType::kBFloat16);
  EXPECT_FALSE(Plan(LastKernel(tiny.Matmul(tiny), &inputs)).has_value()) << "below one MMA tile";
  EXPECT_FALSE(Plan(LastKernel(bf.Sum({1}), &inputs)).has_value());
  EXPECT_FALSE(Plan(LastKernel(bf.Max({1}), &inputs)).has_value());
  std::optional<GemmPlan> mixed = Plan(LastKernel(bf.Cast(DType::kFloat32).Matmul(h.Cast(DType::kFloat32)), &inputs));
  EXPECT_TRUE(!mixed || mixed->a.dtype == mixed->b.dtype) << "bfloat16 times float16 never meets in one MMA";
}

// Every rendered kernel compiles for the consumer (sm_89) and the oldest (sm_80) target.
TEST(GemmSourceTest, CompilesWithNvcc) {
  std::string nvcc;
  for (const char* c : {"/usr/local/cuda/bin/nvcc", "/usr/bin/nvcc"})
    if (std::filesystem::exists(c)) nvcc = c;
  if (nvcc.empty()) GTEST_SKIP() << "nvcc not installed (the GPU suite compiles these kernels with NVRTC)";
  Tensor a = RandReal({37, 29}, 51, DType::kFloat16), b = RandReal({29, 200}, 52, DType::kFloat16);
  Tensor x = RandReal({2, 8, 9, 9}, 53, DType::kBFloat16), f = RandReal({16, 8, 3, 3}, 54, DType::kBFloat16);
  std::vector<NodeRef> inputs;
  Tensor s = RandReal({40, 36}, 55, DType::kFloat32);
  std::vector<std::shared_ptr<const KernelAst>> asts = {LastKernel(a.Matmul(b), &inputs),
                                                        LastKernel(a.Transpose().Matmul(a), &inputs),
                                                        LastKernel(x.Conv2d(f, Tensor(), {2, 2}, {1, 1}), &inputs),
                                                        LastKernel(s.Matmul(s.Transpose()), &inputs)};
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("petabox_gemm_nvcc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < asts.size(); ++i) {
    std::optional<GemmPlan> plan = Plan(asts[i]);
    ASSERT_TRUE(plan.has_value()) << i;
    std::vector<GemmTiles> all = {{128, 256, 32, 2, 4, 3}, {128, 128, 32, 2, 4, 4}, {64, 64, 32, 2, 2, 3}};
    if (plan->a.dtype == DType::kFloat32) all = {{128, 128, 8, 2, 4, 2}, {64, 64, 8, 1, 2, 2}};
    for (const GemmTiles& tiles : all) {
      GemmKernel k = RenderGemm(*plan, tiles, CudaDialect(), CudaMmaSync());
      const std::filesystem::path src = dir / (k.linear.name + ".cu");
      // nvcc, unlike NVRTC, includes the host's <stdint.h>: use its int64_t.
      std::string source = k.source;
      source.replace(source.find("typedef long long int64_t;"), 26, "#include <cstdint>");
      std::ofstream(src) << source;
      for (const char* arch : {"sm_80", "sm_89"}) {
        std::string cmd = nvcc + " -std=c++17 -arch=" + arch + " -cubin -o " + (dir / "k.cubin").string() + " " +
                          src.string() + " > " + (dir / "log.txt").string() + " 2>&1";
        std::ifstream log_in;
        int rc = std::system(cmd.c_str());
        std::string log;
        log_in.open(dir / "log.txt");
        std::getline(log_in, log, '\0');
        EXPECT_EQ(rc, 0) << arch << " " << tiles.ToString() << "\n" << log << "\n" << k.source;
      }
    }
  }
}

}  // namespace
}  // namespace petabox
