// The CUDA dialect (compiled by NVRTC). Every global index is one thread of a 1-D grid;
// half and bfloat16 are stored as 16-bit and computed in float (converted with PTX cvt).
#include "engine/codegen/render/dialect.h"

namespace petabox {
namespace {

constexpr const char* kPrelude = R"(typedef long long int64_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef unsigned short uint16_t;
typedef unsigned char uint8_t;
__device__ inline float pb_h2f(uint16_t h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ inline uint16_t pb_f2h(float x) { uint16_t h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
__device__ inline float pb_bf2f(uint16_t b) { return __uint_as_float(((uint32_t)b) << 16); }
__device__ inline uint16_t pb_f2bf(float x) {
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1); return (uint16_t)(u >> 16);
}
template <class T, class S> __device__ inline T pb_bitcast(S s) { T t; memcpy(&t, &s, sizeof(T)); return t; }
)";

Dialect MakeCuda() {
  Dialect d = GpuDialectBase();
  d.name = "cuda";
  d.prelude = kPrelude;
  d.inf = "__int_as_float(0x7f800000)";
  d.nan = "__int_as_float(0x7fc00000)";
  return d;
}

}  // namespace

const Dialect& CudaDialect() {
  static const Dialect* d = new Dialect(MakeCuda());
  return *d;
}

}  // namespace petabox
