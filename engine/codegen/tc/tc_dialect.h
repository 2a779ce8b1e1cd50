// Tensor-core dialects as data: what a vendor's matrix instructions need around a GEMM
// kernel. The generator (gemm_source.h) prints one kernel per GemmPlan from these strings;
// the tiled, pipelined loop itself is a template in `machinery`, written once per vendor.
#pragma once

#include <string>

#include "devices/device.h"
#include "engine/codegen/render/dialect.h"

namespace petabox {

struct TensorCoreDialect {
  std::string name;         // "cuda-mma-sync", "hip-wmma"
  std::string intrinsics;   // the vendor instructions, one function each (pb_mma, pb_ldm, ...)
  std::string machinery;    // the GEMM over them: copies, fragments, pb_gemm<...>
  // {name} {params} {threads}: the kernel function's header.
  std::string signature;
  // {BM} {BN} {BK} {WARPS_M} {WARPS_N} {STAGES} {LA} {LB} {F16} {I}: the pb_gemm template arguments.
  std::string call;
  // The same for float32 operands (pb_sgemm: shared-memory tiles on the CUDA cores).
  std::string simt_call;
  int warp_size = 32;
  int max_shared_bytes = 0;  // dynamic shared memory one block may use
  int max_stages = 8;        // shared-memory stages in flight (1: load, compute, load, ...)
};

// Device code both vendors' machinery uses (tile_common.cc): pb_swz<CPR>(row, chunk), the
// element offset of 16-byte chunk `chunk` of row `row` in a shared-memory tile of CPR chunks
// per row, XOR-swizzled so that eight rows read at one chunk fall in eight different bank
// groups; pb_tile_origin<BM, BN>(M, N, &m0, &n0), the block's output tile.
extern const char* const kTileCommon;
// What both vendors' dialects share: the kernel signature, the calls, wave32.
TensorCoreDialect GemmDialectBase();
// pb_sgemm<BM, BN, BK, LA, LB, I>: the float32 GEMM (simt_gemm.cc), vendor-neutral.
extern const char* const kSimtGemm;

// The dialect for a device, or null when its matrix instructions are not supported (CUDA
// before sm_80, HIP other than RDNA3, the CPU).
const TensorCoreDialect* FindTensorCoreDialect(const DeviceProperties& props);
// Whether the engine lowers matrix products to these kernels (PETABOX_TENSOR_CORES, read once).
bool TensorCoresEnabled();

const TensorCoreDialect& CudaMmaSync();  // mma.sync m16n8k16, cp.async, ldmatrix (sm_80+)
const TensorCoreDialect& HipWmma();      // RDNA3 WMMA 16x16x16, wave32 (gfx11)

}  // namespace petabox
