#include "engine/codegen/tc/tc_dialect.h"

namespace petabox {

const char* const kTileCommon = R"(
template <int CPR> __device__ __forceinline__ int pb_swz(int row, int c) {
  const int x = CPR >= 8 ? (row & 7) : CPR == 4 ? ((row >> 1) & 3) : CPR == 2 ? ((row >> 2) & 1) : 0;
  return row * CPR * 8 + ((c ^ x) << 3);
}
// The block's output tile: blocks walk the tiles in groups of 8 tile rows, so neighbours
// share panels of A and B in L2.
template <int BM, int BN, class I> __device__ __forceinline__ void pb_tile_origin(I M, I N, I* m0, I* n0) {
  const I tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN, pid = blockIdx.x;
  const I first_m = pid / (8 * tiles_n) * 8, group_m = tiles_m - first_m < 8 ? tiles_m - first_m : 8;
  *m0 = (first_m + (pid % (8 * tiles_n)) % group_m) * BM;
  *n0 = (pid % (8 * tiles_n)) / group_m * BN;
}
)";

TensorCoreDialect GemmDialectBase() {
  TensorCoreDialect d;
  d.signature = "extern \"C\" __global__ void __launch_bounds__({threads}) {name}({params})";
  d.call = "pb_gemm<{BM}, {BN}, {BK}, {WARPS_M}, {WARPS_N}, {STAGES}, {LA}, {LB}, {F16}, {I}>";
  d.simt_call = "pb_sgemm<{BM}, {BN}, {BK}, {LA}, {LB}, {I}>";
  d.warp_size = 32;
  return d;
}

}  // namespace petabox
