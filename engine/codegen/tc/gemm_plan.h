// GemmPlan: a kernel recognised as a (batched) matrix product that the tensor cores can run.
//
// A kernel qualifies when its reduce is SUM(a * b) over loads of 16-bit floats (float16 or
// bfloat16, the same type on both sides, optionally cast to float32; for the tensor cores)
// or of float32 (for shared-memory tiles on the CUDA cores), whatever the views:
// a plain matmul, a transposed operand, or a convolution whose sliding-window view makes it
// an implicit GEMM. Its axes then fall into four roles: K (the reduce axes), M (global axes
// only `a` moves along), N (only `b` moves along) and batch (both, or neither). Everything
// above the reduce (bias, activation, cast) becomes the epilogue, applied per output element.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/codegen/kernel.h"
#include "engine/shape/symbolic.h"

namespace petabox {

// How an operand's tile can be copied from global memory into shared memory.
enum class GemmLayout : uint8_t {
  kGeneric,      // element by element through its index expression (any view, masks)
  kKContiguous,  // 16-byte copies along K: stride 1 in K, whole chunks, 16-byte aligned rows
  kMnContiguous, // 16-byte copies along M (or N): stride 1 there, whole chunks, aligned
  kGenericMn,    // element by element, neighbouring threads along M (or N), where it is contiguous
};

struct GemmOperand {
  int buf = -1;          // kernel buffer index
  DType dtype;           // kFloat16, kBFloat16 or kFloat32
  // Element index and validity over the variables gb (batch), gm or gn (row), gk.
  sym::ExprRef index, valid;
  GemmLayout layout = GemmLayout::kGeneric;
};

struct GemmPlan {
  int64_t batch = 1, m = 1, n = 1, k = 1;
  GemmOperand a, b;        // a: M x K, b: N x K
  sym::ExprRef out_index;  // output element index over gb, gm, gn
  DType out_dtype;
  // C expression of the stored value over `acc` (the float32 sum) and the variables gb, gm,
  // gn; rendered for the kernel's dialect. Loads it makes read data<i>.
  std::string epilogue;
  std::vector<DType> buf_dtypes;
  std::string name;  // "<batch>_<m>_<n>_<k>"
  int64_t max_index = 0;  // largest |element index| any load or the store computes
};

// The plan for `kernel` (already normalized) when it is a GEMM the tensor cores can run on
// `dialect`; nullopt otherwise (the kernel then goes through the ordinary heuristics).
std::optional<GemmPlan> MatchGemm(const Kernel& kernel, const struct Dialect& dialect);

}  // namespace petabox
