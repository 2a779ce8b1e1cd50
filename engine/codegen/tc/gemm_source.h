// Prints a tensor-core GEMM kernel for a GemmPlan: the dialect's prelude and machinery, then
// one kernel whose operands and epilogue are the plan's index expressions.
#pragma once

#include <string>

#include "engine/codegen/tc/gemm_plan.h"
#include "engine/codegen/tc/tc_dialect.h"
#include "engine/codegen/uops.h"

namespace petabox {

// Tile shape and pipeline depth: what the heuristics pick and what a search may vary.
struct GemmTiles {
  int bm = 128, bn = 128, bk = 32;
  int warps_m = 2, warps_n = 4;
  int stages = 4;

  int Threads(int warp_size) const { return warps_m * warps_n * warp_size; }
  int SharedBytes() const { return stages * (bm + bn) * bk * 2; }
  std::string ToString() const;
};

// The tiles the heuristics choose for `plan` on a device with `compute_units` SMs.
GemmTiles ChooseTiles(const GemmPlan& plan, int compute_units, const TensorCoreDialect& tc);

struct GemmKernel {
  LinearKernel linear;  // name, buffer types, launch dims, FLOPs and bytes (no uops)
  std::string source;
};

GemmKernel RenderGemm(const GemmPlan& plan, const GemmTiles& tiles, const Dialect& dialect,
                      const TensorCoreDialect& tc);

}  // namespace petabox
