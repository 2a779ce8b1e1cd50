// Tiled GEMM kernels on a CUDA device (sm_80 or later), against float64 host loops over the
// same inputs: matmuls of every operand layout (odd sizes that divide no tile included),
// batched, in bfloat16, float16 (tensor cores) and float32 (shared-memory tiles), with a
// fused bias + relu epilogue, and a convolution forward and both gradients. Each case also
// checks that a tiled kernel ran (its name starts with "mma_" or "sgemm_"). Skipped, saying
// why, where no such device exists.
#include <cmath>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/codegen/tc/tc_dialect.h"
#include "engine/device_source.h"
#include "engine/exec_stats.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

// The first CUDA device with tensor cores mma.sync can drive, or "" (with the reason).
std::string TensorCoreDevice(std::string* why) {
  StatusOr<Device*> d = GetDevice("CUDA:0");
  if (!d.ok()) {
    *why = "no CUDA device: " + d.status().ToString();
    return "";
  }
  const std::string& arch = (*d)->properties().arch;
  if (arch.rfind("sm_", 0) != 0 || std::atoi(arch.c_str() + 3) < 80) {
    *why = "CUDA:0 is " + arch + "; mma.sync with bf16 needs sm_80 or later";
    return "";
  }
  return "CUDA:0";
}

class GemmGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    device_ = TensorCoreDevice(&why);
    if (device_.empty()) GTEST_SKIP() << why;
    if (!TensorCoresEnabled())
      GTEST_SKIP() << "the tensor-core path is off: set PETABOX_TENSOR_CORES=1 (tests/gpu/check.sh does)";
    SetKernelObserver([this](const KernelRecord& r) {
      if (r.name.rfind("mma_", 0) == 0 || r.name.rfind("sgemm_", 0) == 0) ++tensor_core_kernels_;
    });
  }
  void TearDown() override { SetKernelObserver(nullptr); }

  Tensor Rand(const Shape& shape, uint64_t seed, DType dtype) {
    Rng rng(seed);
    return Tensor::Rand(shape, rng, dtype, device_) * 2.0 - 1.0;
  }
  static std::vector<double> Host(const Tensor& t) { return t.ToDoubles().value(); }

  std::string device_;
  int tensor_core_kernels_ = 0;
};

// Checks got against want with a tolerance scaled by the sum of |products| (16-bit inputs,
// float32 accumulation in another order, a 16-bit result).
void ExpectClose(const std::vector<double>& got, const std::vector<double>& want, const std::vector<double>& scale,
                 double rel) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * (scale[i] + 1e-3)) << "element " << i;
}

struct Mm {
  int64_t batch, m, k, n;
  bool ta, tb;
};

void NaiveMatmul(const std::vector<double>& a, const std::vector<double>& b, const Mm& c, std::vector<double>* out,
                 std::vector<double>* scale) {
  out->assign(c.batch * c.m * c.n, 0.0);
  scale->assign(out->size(), 0.0);
  for (int64_t q = 0; q < c.batch; ++q)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t l = 0; l < c.k; ++l) {
        double x = c.ta ? a[(q * c.k + l) * c.m + i] : a[(q * c.m + i) * c.k + l];
        for (int64_t j = 0; j < c.n; ++j) {
          double y = c.tb ? b[(q * c.n + j) * c.k + l] : b[(q * c.k + l) * c.n + j];
          (*out)[(q * c.m + i) * c.n + j] += x * y;
          (*scale)[(q * c.m + i) * c.n + j] += std::abs(x * y);
        }
      }
}

TEST_F(GemmGpuTest, MatmulsOfEveryLayoutAndOddSizes) {
  const std::vector<Mm> cases = {{1, 256, 256, 256, false, false}, {1, 17, 19, 33, false, false},
                                 {1, 100, 70, 130, false, true},   {1, 130, 72, 100, true, false},
                                 {1, 64, 48, 200, true, true},     {3, 65, 129, 47, false, false},
                                 {1, 300, 520, 264, false, true}};
  for (DType dtype : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
    for (const Mm& c : cases) {
      SCOPED_TRACE(std::string(Name(dtype)) + " " + std::to_string(c.batch) + "x" + std::to_string(c.m) + "x" +
                   std::to_string(c.k) + "x" + std::to_string(c.n) + (c.ta ? " A^T" : "") + (c.tb ? " B^T" : ""));
      Tensor a = Rand(c.ta ? Shape{c.batch, c.k, c.m} : Shape{c.batch, c.m, c.k}, 100 + c.m, dtype);
      Tensor b = Rand(c.tb ? Shape{c.batch, c.n, c.k} : Shape{c.batch, c.k, c.n}, 200 + c.n, dtype);
      ASSERT_TRUE(a.Realize().ok() && b.Realize().ok());
      tensor_core_kernels_ = 0;
      Tensor y = (c.ta ? a.Transpose() : a).Matmul(c.tb ? b.Transpose() : b);
      std::vector<double> got = Host(y), want, scale;
      EXPECT_EQ(tensor_core_kernels_, 1);
      NaiveMatmul(Host(a), Host(b), c, &want, &scale);
      ExpectClose(got, want, scale, dtype == DType::kBFloat16 ? 1e-2 : dtype == DType::kFloat16 ? 2e-3 : 1e-5);
    }
  }
}

TEST_F(GemmGpuTest, EpilogueBiasAndRelu) {
  Tensor x = Rand({70, 96}, 1, DType::kBFloat16), w = Rand({50, 96}, 2, DType::kBFloat16), bias = Rand({50}, 3, DType::kBFloat16);
  ASSERT_TRUE(x.Realize().ok() && w.Realize().ok() && bias.Realize().ok());
  tensor_core_kernels_ = 0;
  std::vector<double> got = Host((x.Matmul(w.Transpose()) + bias).Relu());
  EXPECT_EQ(tensor_core_kernels_, 1) << "bias and relu are the GEMM's epilogue";
  std::vector<double> xv = Host(x), wv = Host(w), bv = Host(bias), want(70 * 50), scale(70 * 50);
  for (int i = 0; i < 70; ++i)
    for (int j = 0; j < 50; ++j) {
      double s = bv[j], sc = std::abs(bv[j]);
      for (int l = 0; l < 96; ++l) s += xv[i * 96 + l] * wv[j * 96 + l], sc += std::abs(xv[i * 96 + l] * wv[j * 96 + l]);
      want[i * 50 + j] = std::max(s, 0.0);
      scale[i * 50 + j] = sc;
    }
  ExpectClose(got, want, scale, 1e-2);
}

// conv2d 3x3, stride 1 and 2, padding 1: forward and both gradients (weight and input) of
// sum(conv(x, w) * g) for a random g, against loops here.
TEST_F(GemmGpuTest, ConvolutionForwardAndGradients) {
  const int64_t n = 2, ci = 16, h = 11, wd = 13, co = 24, kk = 3;
  for (int64_t stride : {1, 2}) {
    SCOPED_TRACE("stride " + std::to_string(stride));
    Tensor x = Rand({n, ci, h, wd}, 7, DType::kBFloat16), w = Rand({co, ci, kk, kk}, 8, DType::kBFloat16);
    ASSERT_TRUE(x.Realize().ok() && w.Realize().ok());
    x.RequiresGrad();
    w.RequiresGrad();
    const int64_t oh = (h + 2 - kk) / stride + 1, ow = (wd + 2 - kk) / stride + 1;
    Tensor g = Rand({n, co, oh, ow}, 9, DType::kBFloat16);
    ASSERT_TRUE(g.Realize().ok());
    tensor_core_kernels_ = 0;
    Tensor y = x.Conv2d(w, Tensor(), {stride, stride}, {1, 1});
    std::vector<double> yv = Host(y);
    EXPECT_GE(tensor_core_kernels_, 1) << "forward";
    StatusOr<std::vector<Tensor>> grads = Gradients((y * g).Sum({}), {x, w});
    ASSERT_TRUE(grads.ok()) << grads.status().ToString();
    std::vector<double> dx = Host((*grads)[0]), dw = Host((*grads)[1]);
    std::printf("stride %lld: %d tensor-core kernels (forward and both gradients)\n", static_cast<long long>(stride),
                tensor_core_kernels_);
    std::vector<double> xv = Host(x), wv = Host(w), gv = Host(g);
    std::vector<double> y_want(yv.size()), y_scale(yv.size()), dx_want(xv.size()), dx_scale(xv.size()),
        dw_want(wv.size()), dw_scale(wv.size());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t o = 0; o < co; ++o)
        for (int64_t p = 0; p < oh; ++p)
          for (int64_t q = 0; q < ow; ++q)
            for (int64_t c = 0; c < ci; ++c)
              for (int64_t i = 0; i < kk; ++i)
                for (int64_t j = 0; j < kk; ++j) {
                  int64_t yy = p * stride + i - 1, zz = q * stride + j - 1;
                  if (yy < 0 || yy >= h || zz < 0 || zz >= wd) continue;
                  int64_t xi = ((b * ci + c) * h + yy) * wd + zz, wi = ((o * ci + c) * kk + i) * kk + j;
                  int64_t yi = ((b * co + o) * oh + p) * ow + q;
                  y_want[yi] += xv[xi] * wv[wi], y_scale[yi] += std::abs(xv[xi] * wv[wi]);
                  dx_want[xi] += gv[yi] * wv[wi], dx_scale[xi] += std::abs(gv[yi] * wv[wi]);
                  dw_want[wi] += gv[yi] * xv[xi], dw_scale[wi] += std::abs(gv[yi] * xv[xi]);
                }
    ExpectClose(yv, y_want, y_scale, 1e-2);
    ExpectClose(dx, dx_want, dx_scale, 1e-2);
    ExpectClose(dw, dw_want, dw_scale, 1e-2);
  }
}

}  // namespace
}  // namespace petabox
