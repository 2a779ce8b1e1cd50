#include "engine/codegen/tc/tc_dialect.h"

namespace petabox {

const char* const kSwizzle = R"(
template <int CPR> __device__ __forceinline__ int pb_swz(int row, int c) {
  const int x = CPR >= 8 ? (row & 7) : CPR == 4 ? ((row >> 1) & 3) : CPR == 2 ? ((row >> 2) & 1) : 0;
  return row * CPR * 8 + ((c ^ x) << 3);
}
)";

}  // namespace petabox
