// The CUDA tensor-core dialect: mma.sync m16n8k16 (float16/bfloat16 in, float32 accumulate),
// the instruction of Ampere, the consumer Ada cards (sm_89) and Hopper. A block computes a
// BM x BN tile of C; its warps split it WARPS_M x WARPS_N. Tiles of A and B pass through
// STAGES shared-memory buffers filled by cp.async while the tensor cores work on an earlier
// one; fragments come out of shared memory with ldmatrix (.trans for operands stored
// M- or N-major); 16-byte chunks are XOR-swizzled so neither the copies nor ldmatrix hit
// one bank twice. Operands whose view allows it are copied in 16-byte pieces; any other
// view (a padded convolution window, say) is read element by element through its index
// expression. Rows, columns and K past the end read zeros and store nothing.
#include <string>

#include "engine/codegen/tc/tc_dialect.h"

namespace petabox {
namespace {

// The PTX the GEMM uses, each instruction behind one function (tests/engine/codegen/tc/
// cuda_emulator.h implements the same functions on the host to run these kernels on a CPU).
constexpr const char* kIntrinsics = R"(
__device__ __forceinline__ unsigned pb_sptr(const void* p) {
  unsigned r; asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(r) : "l"(p)); return r;
}
__device__ __forceinline__ void pb_cp16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(pb_sptr(dst)), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void pb_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void pb_wait() { asm volatile("cp.async.wait_group %0;\n" :: "n"(N)); }
__device__ __forceinline__ void pb_ldm(unsigned* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(pb_sptr(p)));
}
__device__ __forceinline__ void pb_ldm_t(unsigned* r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(pb_sptr(p)));
}
template <bool F16> __device__ __forceinline__ void pb_mma(float* c, const unsigned* a, const unsigned* b) {
  if (F16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
)";

// The tiled, pipelined GEMM over those intrinsics.
constexpr const char* kMachinery = R"(
// Layouts: 0 generic (K-major tile), 1 K-contiguous, 2 M/N-contiguous, 3 generic M/N-major.
// K-major tiles are [R][BK]; M/N-major tiles are [BK][R].
template <int L, int R, int BK, int T, class I, class Idx, class Ok>
__device__ __forceinline__ void pb_load(uint16_t* tile, const uint16_t* p, Idx idx, Ok ok, I gb, I r0, I k0, I rows, I K, int tid) {
  if (L == 1) {
    constexpr int CPR = BK / 8, N = R * CPR;
#pragma unroll
    for (int j = 0; j < (N + T - 1) / T; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      const I r = r0 + i / CPR, k = k0 + (i % CPR) * 8;
      const bool v = r < rows && k < K;
      pb_cp16(tile + pb_swz<CPR>(i / CPR, i % CPR), p + (v ? idx(gb, r, k) : 0), v);
    }
  } else if (L == 2) {
    constexpr int CPR = R / 8, N = BK * CPR;
#pragma unroll
    for (int j = 0; j < (N + T - 1) / T; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      const I r = r0 + (i % CPR) * 8, k = k0 + i / CPR;
      const bool v = r < rows && k < K;
      pb_cp16(tile + pb_swz<CPR>(i / CPR, i % CPR), p + (v ? idx(gb, r, k) : 0), v);
    }
  } else if (L == 0) {
    constexpr int N = R * BK;
#pragma unroll 4
    for (int j = 0; j < (N + T - 1) / T; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      const int rr = i / BK, kk = i % BK;
      const I r = r0 + rr, k = k0 + kk;
      tile[pb_swz<BK / 8>(rr, kk >> 3) + (kk & 7)] = r < rows && k < K && ok(gb, r, k) ? p[idx(gb, r, k)] : (uint16_t)0;
    }
  } else {
    constexpr int N = R * BK;
#pragma unroll 4
    for (int j = 0; j < (N + T - 1) / T; ++j) {
      const int i = tid + j * T;
      if (N % T != 0 && i >= N) break;
      const int rr = i % R, kk = i / R;
      const I r = r0 + rr, k = k0 + kk;
      tile[pb_swz<R / 8>(kk, rr >> 3) + (rr & 7)] = r < rows && k < K && ok(gb, r, k) ? p[idx(gb, r, k)] : (uint16_t)0;
    }
  }
}
// A's fragment (16 rows from r0, 16 of K from k0) for mma's row-major A.
template <int L, int R, int BK> __device__ __forceinline__ void pb_frag_a(unsigned* f, const uint16_t* t, int r0, int k0, int lane) {
  if (L == 0 || L == 1) {
    pb_ldm(f, t + pb_swz<BK / 8>(r0 + (lane & 15), (k0 >> 3) + (lane >> 4)));
  } else {
    const int j = lane >> 3;
    pb_ldm_t(f, t + pb_swz<R / 8>(k0 + (lane & 7) + (j >> 1) * 8, (r0 >> 3) + (j & 1)));
  }
}
// B's fragments for 16 columns from n0 (two n8 fragments: f[0..1] and f[2..3]).
template <int L, int R, int BK> __device__ __forceinline__ void pb_frag_b(unsigned* f, const uint16_t* t, int n0, int k0, int lane) {
  if (L == 0 || L == 1) {
    pb_ldm(f, t + pb_swz<BK / 8>(n0 + (lane & 7) + (lane >> 4) * 8, (k0 >> 3) + ((lane >> 3) & 1)));
  } else {
    const int j = lane >> 3;
    pb_ldm_t(f, t + pb_swz<R / 8>(k0 + (lane & 7) + (j & 1) * 8, (n0 >> 3) + (j >> 1)));
  }
}
template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES, int LA, int LB, bool F16, class I,
          class AI, class AO, class BI, class BO, class E>
__device__ __forceinline__ void pb_gemm(const uint16_t* pa, AI a_idx, AO a_ok, const uint16_t* pb, BI b_idx, BO b_ok, E epi,
                                        I M, I N, I K) {
  constexpr int T = WARPS_M * WARPS_N * 32, WM = BM / WARPS_M, WN = BN / WARPS_N, FM = WM / 16, FN = WN / 8;
  extern __shared__ __align__(128) uint16_t pb_smem[];
  uint16_t* sa = pb_smem;
  uint16_t* sb = pb_smem + STAGES * BM * BK;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
  I m0, n0;
  pb_tile_origin<BM, BN>(M, N, &m0, &n0);
  const I gb = blockIdx.y;
  float acc[FM][FN][4];
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;
  const int KT = (int)((K + BK - 1) / BK);
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) {
      pb_load<LA, BM, BK, T>(sa + s * BM * BK, pa, a_idx, a_ok, gb, m0, (I)s * BK, M, K, tid);
      pb_load<LB, BN, BK, T>(sb + s * BN * BK, pb, b_idx, b_ok, gb, n0, (I)s * BK, N, K, tid);
    }
    pb_commit();
  }
  for (int kt = 0; kt < KT; ++kt) {
    pb_wait<STAGES - 2>();
    __syncthreads();
    const int next = kt + STAGES - 1;
    if (next < KT) {
      const int s = next % STAGES;
      pb_load<LA, BM, BK, T>(sa + s * BM * BK, pa, a_idx, a_ok, gb, m0, (I)next * BK, M, K, tid);
      pb_load<LB, BN, BK, T>(sb + s * BN * BK, pb, b_idx, b_ok, gb, n0, (I)next * BK, N, K, tid);
    }
    pb_commit();
    const uint16_t* ta = sa + (kt % STAGES) * BM * BK;
    const uint16_t* tb = sb + (kt % STAGES) * BN * BK;
#pragma unroll
    for (int ks = 0; ks < BK; ks += 16) {
      unsigned af[FM][4], bf[FN][2];
#pragma unroll
      for (int i = 0; i < FM; ++i) pb_frag_a<LA, BM, BK>(af[i], ta, wm0 + i * 16, ks, lane);
#pragma unroll
      for (int j = 0; j < FN; j += 2) pb_frag_b<LB, BN, BK>(&bf[j][0], tb, wn0 + j * 8, ks, lane);
#pragma unroll
      for (int i = 0; i < FM; ++i)
#pragma unroll
        for (int j = 0; j < FN; ++j) pb_mma<F16>(acc[i][j], af[i], bf[j]);
    }
  }
#pragma unroll
  for (int i = 0; i < FM; ++i)
#pragma unroll
    for (int j = 0; j < FN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const I r = m0 + wm0 + i * 16 + (lane >> 2) + (e >> 1) * 8, c = n0 + wn0 + j * 8 + (lane & 3) * 2 + (e & 1);
        if (r < M && c < N) epi(gb, r, c, acc[i][j][e]);
      }
}
)";

TensorCoreDialect MakeCudaMmaSync() {
  TensorCoreDialect d = GemmDialectBase();
  d.name = "cuda-mma-sync";
  d.intrinsics = kIntrinsics;
  d.machinery = std::string(kTileCommon) + kMachinery + kSimtGemm;
  d.max_shared_bytes = 99 * 1024;  // sm_86/sm_89 allow 99 KiB per block (sm_80/sm_90: more)
  return d;
}

}  // namespace

const TensorCoreDialect& CudaMmaSync() {
  static const TensorCoreDialect* d = new TensorCoreDialect(MakeCudaMmaSync());
  return *d;
}

}  // namespace petabox
