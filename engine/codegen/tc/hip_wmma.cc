// The HIP tensor-core dialect: RDNA3 WMMA (v_wmma_f32_16x16x16_{f16,bf16}, wave32), the
// matrix instruction of the RX 7900 XTX (gfx1100) and the rest of gfx11. A block of waves
// computes a BM x BN tile of C, each wave 16x16 fragments of it. Tiles of A and B are staged
// in LDS K-major (16-byte vector copies where the operand is contiguous along K, element by
// element otherwise), one stage at a time: RDNA3 has no asynchronous global-to-LDS copy.
// WMMA operands, per lane l of the wave: A row l%16 (all 16 of K), B column l%16 (all 16 of
// K; lanes 16-31 repeat lanes 0-15), and 8 float results, row 2i + l/16, column l%16.
//
// No AMD GPU has run these kernels: they are compiled for gfx1100 in CI
// (tests/engine/codegen/hip_compile_test.cc) and run in the CPU emulation of the tests.
#include <string>

#include "engine/codegen/tc/tc_dialect.h"

namespace petabox {
namespace {

constexpr const char* kIntrinsics = R"(
typedef short pb_s16x16 __attribute__((ext_vector_type(16)));
typedef _Float16 pb_h16x16 __attribute__((ext_vector_type(16)));
typedef float pb_f32x8 __attribute__((ext_vector_type(8)));
template <bool F16> __device__ __forceinline__ void pb_wmma(float* c, const uint16_t* a, const uint16_t* b) {
  pb_f32x8 acc;
#pragma unroll
  for (int i = 0; i < 8; ++i) acc[i] = c[i];
  if (F16) {
    pb_h16x16 x, y;
#pragma unroll
    for (int i = 0; i < 16; ++i) x[i] = __builtin_bit_cast(_Float16, a[i]), y[i] = __builtin_bit_cast(_Float16, b[i]);
    acc = __builtin_amdgcn_wmma_f32_16x16x16_f16_w32(x, y, acc);
  } else {
    pb_s16x16 x, y;
#pragma unroll
    for (int i = 0; i < 16; ++i) x[i] = (short)a[i], y[i] = (short)b[i];
    acc = __builtin_amdgcn_wmma_f32_16x16x16_bf16_w32(x, y, acc);
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) c[i] = acc[i];
}
)";

constexpr const char* kMachinery = R"(
// A K-major [R][BK] tile: 16-byte copies when the operand is K-contiguous (layout 1), else
// element by element through its index expression.
template <int L, int R, int BK, int T, class I, class Idx, class Ok>
__device__ __forceinline__ void pb_load(uint16_t* tile, const uint16_t* p, Idx idx, Ok ok, I gb, I r0, I k0, I rows, I K, int tid) {
  if (L == 1) {
    constexpr int CPR = BK / 8, N = R * CPR;
    for (int i = tid; i < N; i += T) {
      const I r = r0 + i / CPR, k = k0 + (i % CPR) * 8;
      uint4 v = {0, 0, 0, 0};
      if (r < rows && k < K) v = *(const uint4*)(p + idx(gb, r, k));
      *(uint4*)(tile + pb_swz<CPR>(i / CPR, i % CPR)) = v;
    }
  } else {
    for (int i = tid; i < R * BK; i += T) {
      const int rr = i / BK, kk = i % BK;
      const I r = r0 + rr, k = k0 + kk;
      tile[pb_swz<BK / 8>(rr, kk >> 3) + (kk & 7)] = r < rows && k < K && ok(gb, r, k) ? p[idx(gb, r, k)] : (uint16_t)0;
    }
  }
}
// Row (or column) r0 + lane%16 of a K-major tile: the 16 values of K from k0.
template <int BK> __device__ __forceinline__ void pb_frag(uint16_t* f, const uint16_t* t, int r0, int k0, int lane) {
  const int row = r0 + (lane & 15);
  *(uint4*)f = *(const uint4*)(t + pb_swz<BK / 8>(row, k0 >> 3));
  *(uint4*)(f + 8) = *(const uint4*)(t + pb_swz<BK / 8>(row, (k0 >> 3) + 1));
}
template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES, int LA, int LB, bool F16, class I,
          class AI, class AO, class BI, class BO, class E>
__device__ __forceinline__ void pb_gemm(const uint16_t* pa, AI a_idx, AO a_ok, const uint16_t* pb, BI b_idx, BO b_ok, E epi,
                                        I M, I N, I K) {
  constexpr int T = WARPS_M * WARPS_N * 32, WM = BM / WARPS_M, WN = BN / WARPS_N, FM = WM / 16, FN = WN / 16;
  extern __shared__ __attribute__((aligned(16))) uint16_t pb_smem[];
  uint16_t* sa = pb_smem;
  uint16_t* sb = pb_smem + BM * BK;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
  I m0, n0;
  pb_tile_origin<BM, BN>(M, N, &m0, &n0);
  const I gb = blockIdx.y;
  float acc[FM][FN][8];
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j)
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[i][j][e] = 0.f;
  for (I k0 = 0; k0 < K; k0 += BK) {
    pb_load<LA, BM, BK, T>(sa, pa, a_idx, a_ok, gb, m0, k0, M, K, tid);
    pb_load<LB, BN, BK, T>(sb, pb, b_idx, b_ok, gb, n0, k0, N, K, tid);
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      uint16_t af[FM][16], bf[FN][16];
#pragma unroll
      for (int i = 0; i < FM; ++i) pb_frag<BK>(af[i], sa, wm0 + i * 16, ks, lane);
#pragma unroll
      for (int j = 0; j < FN; ++j) pb_frag<BK>(bf[j], sb, wn0 + j * 16, ks, lane);
#pragma unroll
      for (int i = 0; i < FM; ++i)
#pragma unroll
        for (int j = 0; j < FN; ++j) pb_wmma<F16>(acc[i][j], af[i], bf[j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j)
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const I r = m0 + wm0 + i * 16 + 2 * e + (lane >> 4), c = n0 + wn0 + j * 16 + (lane & 15);
        if (r < M && c < N) epi(gb, r, c, acc[i][j][e]);
      }
}
)";

TensorCoreDialect MakeHipWmma() {
  TensorCoreDialect d = GemmDialectBase();
  d.name = "hip-wmma";
  d.intrinsics = kIntrinsics;
  d.machinery = std::string(kTileCommon) + kMachinery + kSimtGemm;
  d.max_shared_bytes = 64 * 1024;
  d.max_stages = 1;
  return d;
}

}  // namespace

const TensorCoreDialect& HipWmma() {
  static const TensorCoreDialect* d = new TensorCoreDialect(MakeHipWmma());
  return *d;
}

}  // namespace petabox
