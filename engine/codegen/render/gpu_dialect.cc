// The parts of the CUDA and HIP dialects that are the same (see dialect.h).
#include "engine/codegen/render/dialect.h"

namespace petabox {

Dialect GpuDialectBase() {
  Dialect d;
  d.signature = "extern \"C\" __global__ void __launch_bounds__(256) {name}({params})";
  d.buffer_param = "{const}{type}* __restrict__ data{i}";
  d.parallel_loop = "const int64_t {var} = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;\n  if ({var} < {end}) {";
  d.parallel_close = "}";
  d.serial_loop = "for (int64_t {var} = {begin}; {var} < {end}; {var}++) {";
  d.define = "const int64_t {var} = {value};";
  d.index_type = "int64_t";
  d.shared = "__shared__ {type} {var}[{size}];";
  d.barrier = "__syncthreads();";
  d.types = {{
      {"bool", "bool", "{0}", "{0}"},
      {"uint8_t", "uint8_t", "{0}", "{0}"},
      {"int32_t", "int32_t", "{0}", "{0}"},
      {"int64_t", "int64_t", "{0}", "{0}"},
      {"uint16_t", "float", "pb_h2f({0})", "pb_f2h({0})"},
      {"uint16_t", "float", "pb_bf2f({0})", "pb_f2bf({0})"},
      {"float", "float", "{0}", "{0}"},
  }};
  d.alu = CStyleAlu("pb_bitcast<{T}>({0})");
  // No vector types: GPU kernels are scalar per thread (the heuristics do not vectorize them).
  return d;
}

}  // namespace petabox
