// Prints a tensor-core GEMM kernel for a GemmPlan: the dialect's prelude and machinery, then
// one kernel whose operands and epilogue are the plan's index expressions.
#pragma once

#include <string>

#include "engine/codegen/tc/gemm_plan.h"
#include "engine/codegen/tc/tc_dialect.h"
#include "engine/codegen/uops.h"

namespace petabox {

// Tile shape and pipeline depth: what the heuristics pick and what a search may vary. For
// float32 (pb_sgemm) every thread owns an 8x8 tile, so warps_m * warps_n * 32 must equal
// bm * bn / 64, and two buffers replace the stages.
struct GemmTiles {
  int bm = 128, bn = 128, bk = 32;
  int warps_m = 2, warps_n = 4;
  int stages = 4;

  int Threads(int warp_size) const { return warps_m * warps_n * warp_size; }
  int SharedBytes(DType dtype) const {
    return dtype == DType::kFloat32 ? 2 * bk * (bm + bn + 8) * 4 : stages * (bm + bn) * bk * 2;
  }
  std::string ToString() const;
};

// The tiles the heuristics choose for `plan` on a device with `compute_units` SMs.
GemmTiles ChooseTiles(const GemmPlan& plan, int compute_units, const TensorCoreDialect& tc);

struct GemmKernel {
  // Name ("mma_<plan>" on the tensor cores, "sgemm_<plan>" for float32), buffer types, launch
  // dims and FLOPs; no uops.
  LinearKernel linear;
  std::string source;
};

GemmKernel RenderGemm(const GemmPlan& plan, const GemmTiles& tiles, const Dialect& dialect,
                      const TensorCoreDialect& tc);

}  // namespace petabox
