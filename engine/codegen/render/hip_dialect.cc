// The HIP dialect (AMD GPUs, compiled by hiprtc). Like the CUDA dialect, every global index
// is one thread of a 1-D grid and half/bfloat16 are stored as 16-bit and computed in float,
// but there is no PTX: half conversions use clang's _Float16 (native on AMDGPU), the rest
// is plain bit manipulation with __builtin_bit_cast.
//
// The prelude needs no header under hiprtc, whose builtin header declares threadIdx,
// blockIdx, blockDim, __global__, __launch_bounds__ and the math functions (exp2f, ...).
// Compiled by clang or hipcc instead, the source must be preceded by
// #include <hip/hip_runtime.h> (which brings <cstdint>).
#include "engine/codegen/render/dialect.h"

namespace petabox {
namespace {

// Fixed-width integer types. hiprtc (which defines __HIPCC_RTC__) has no <stdint.h>: the
// builtin header of ROCm 5 declares int32_t, uint32_t, int64_t and uint64_t exactly as
// below, ROCm 6 and later declare none, and repeating an identical typedef is allowed, so
// these declarations fit both. With <hip/hip_runtime.h> the C library's types are used.
constexpr const char* kPrelude = R"(#if defined(__HIPCC_RTC__)
typedef signed int int32_t;
typedef unsigned int uint32_t;
typedef signed long long int64_t;
typedef unsigned long long uint64_t;
typedef unsigned short uint16_t;
typedef unsigned char uint8_t;
#endif
__device__ inline float pb_h2f(uint16_t h) { return (float)__builtin_bit_cast(_Float16, h); }
__device__ inline uint16_t pb_f2h(float x) { return __builtin_bit_cast(uint16_t, (_Float16)x); }
__device__ inline float pb_bf2f(uint16_t b) { return __builtin_bit_cast(float, ((uint32_t)b) << 16); }
__device__ inline uint16_t pb_f2bf(float x) {
  uint32_t u = __builtin_bit_cast(uint32_t, x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1); return (uint16_t)(u >> 16);
}
template <class T, class S> __device__ inline T pb_bitcast(S s) { return __builtin_bit_cast(T, s); }
)";

Dialect MakeHip() {
  Dialect d = GpuDialectBase();
  d.name = "hip";
  d.prelude = kPrelude;
  d.inf = "__builtin_inff()";
  d.nan = "__builtin_nanf(\"\")";
  return d;
}

}  // namespace

const Dialect& HipDialect() {
  static const Dialect* d = new Dialect(MakeHip());
  return *d;
}

}  // namespace petabox
