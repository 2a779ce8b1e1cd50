#include "engine/codegen/tc/tc_dialect.h"

namespace petabox {

// float32 GEMM on the CUDA cores (or AMD's vector ALUs), IEEE: a block computes a BM x BN
// tile, each of its BM*BN/64 threads an 8x8 register tile (two 4-row halves BM/2 apart and
// two 4-column halves BN/2 apart, so a warp's float4 reads of shared memory never collide).
// A and B pass through two shared-memory buffers, stored M- or N-major with 4 floats of
// padding per row; while the threads multiply one buffer, the next tile's values travel
// from global memory into registers and are stored into the other buffer afterwards.
// Operands contiguous along K or along M/N are read as float4; any other view element by
// element through its index expression. Rows, columns and K past the end read zeros.
const char* const kSimtGemm = R"(
template <int L, int R, int BK, int T, class I, class Idx, class Ok>
struct PbRegTile {
  static constexpr int N = R * BK / 4, NV = (N + T - 1) / T;
  float v[NV][4];
  __device__ __forceinline__ void Load(const float* p, Idx idx, Ok ok, I gb, I r0, I k0, I rows, I K, int tid) {
#pragma unroll
    for (int j = 0; j < NV; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      if (L == 1) {
        const I r = r0 + i / (BK / 4), k = k0 + (i % (BK / 4)) * 4;
        float4 f = make_float4(0.f, 0.f, 0.f, 0.f);
        if (r < rows && k < K) f = *(const float4*)(p + idx(gb, r, k));
        v[j][0] = f.x, v[j][1] = f.y, v[j][2] = f.z, v[j][3] = f.w;
      } else if (L == 2) {
        const I r = r0 + (i % (R / 4)) * 4, k = k0 + i / (R / 4);
        float4 f = make_float4(0.f, 0.f, 0.f, 0.f);
        if (r < rows && k < K) f = *(const float4*)(p + idx(gb, r, k));
        v[j][0] = f.x, v[j][1] = f.y, v[j][2] = f.z, v[j][3] = f.w;
      } else {
        const I r = r0 + (i % (R / 4)) * 4, k = k0 + i / (R / 4);
#pragma unroll
        for (int e = 0; e < 4; ++e) v[j][e] = r + e < rows && k < K && ok(gb, r + e, k) ? p[idx(gb, r + e, k)] : 0.f;
      }
    }
  }
  // Into an M/N-major [BK][R + 4] tile.
  __device__ __forceinline__ void Store(float* tile, int tid) const {
#pragma unroll
    for (int j = 0; j < NV; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      if (L == 1) {
        const int rr = i / (BK / 4), kk = (i % (BK / 4)) * 4;
#pragma unroll
        for (int e = 0; e < 4; ++e) tile[(kk + e) * (R + 4) + rr] = v[j][e];
      } else {
        const int rr = (i % (R / 4)) * 4, kk = i / (R / 4);
        *(float4*)(tile + kk * (R + 4) + rr) = make_float4(v[j][0], v[j][1], v[j][2], v[j][3]);
      }
    }
  }
};
template <int BM, int BN, int BK, int LA, int LB, class I, class AI, class AO, class BI, class BO, class E>
__device__ __forceinline__ void pb_sgemm(const float* pa, AI a_idx, AO a_ok, const float* pb, BI b_idx, BO b_ok, E epi,
                                         I M, I N, I K) {
  constexpr int T = (BM / 8) * (BN / 8), SA = BK * (BM + 4), SB = BK * (BN + 4);
  extern __shared__ __attribute__((aligned(16))) float pb_smem_f[];
  float* sa = pb_smem_f;
  float* sb = pb_smem_f + 2 * SA;
  const int tid = threadIdx.x, tx = tid % (BN / 8), ty = tid / (BN / 8);
  I m0, n0;
  pb_tile_origin<BM, BN>(M, N, &m0, &n0);
  const I gb = blockIdx.y;
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;
  PbRegTile<LA, BM, BK, T, I, AI, AO> ra;
  PbRegTile<LB, BN, BK, T, I, BI, BO> rb;
  ra.Load(pa, a_idx, a_ok, gb, m0, (I)0, M, K, tid);
  rb.Load(pb, b_idx, b_ok, gb, n0, (I)0, N, K, tid);
  ra.Store(sa, tid);
  rb.Store(sb, tid);
  __syncthreads();
  const int KT = (int)((K + BK - 1) / BK);
  for (int kt = 0; kt < KT; ++kt) {
    const float* ta = sa + (kt & 1) * SA;
    const float* tb = sb + (kt & 1) * SB;
    if (kt + 1 < KT) {
      ra.Load(pa, a_idx, a_ok, gb, m0, (I)(kt + 1) * BK, M, K, tid);
      rb.Load(pb, b_idx, b_ok, gb, n0, (I)(kt + 1) * BK, N, K, tid);
    }
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      const float4 a0 = *(const float4*)(ta + k * (BM + 4) + ty * 4), a1 = *(const float4*)(ta + k * (BM + 4) + BM / 2 + ty * 4);
      const float4 b0 = *(const float4*)(tb + k * (BN + 4) + tx * 4), b1 = *(const float4*)(tb + k * (BN + 4) + BN / 2 + tx * 4);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] += a[i] * b[j];
    }
    if (kt + 1 < KT) {
      ra.Store(sa + ((kt + 1) & 1) * SA, tid);
      rb.Store(sb + ((kt + 1) & 1) * SB, tid);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const I r = m0 + (i < 4 ? ty * 4 + i : BM / 2 + ty * 4 + i - 4);
      const I c = n0 + (j < 4 ? tx * 4 + j : BN / 2 + tx * 4 + j - 4);
      if (r < M && c < N) epi(gb, r, c, acc[i][j]);
    }
}
)";

}  // namespace petabox
