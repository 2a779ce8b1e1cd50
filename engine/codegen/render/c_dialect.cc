// The C dialect (CPU). Half types are stored as 16-bit and computed in float.
#include "engine/codegen/render/dialect.h"

namespace petabox {
namespace {

constexpr const char* kPrelude = R"(#include <stdint.h>
#include <math.h>
static inline float pb_h2f(uint16_t h) { _Float16 f; __builtin_memcpy(&f, &h, 2); return (float)f; }
static inline uint16_t pb_f2h(float x) { _Float16 f = (_Float16)x; uint16_t h; __builtin_memcpy(&h, &f, 2); return h; }
static inline float pb_bf2f(uint16_t b) { uint32_t u = (uint32_t)b << 16; float f; __builtin_memcpy(&f, &u, 4); return f; }
static inline uint16_t pb_f2bf(float x) {
  uint32_t u; __builtin_memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1); return (uint16_t)(u >> 16);
}
)";

Dialect MakeC() {
  Dialect d;
  d.name = "c";
  d.prelude = kPrelude;
  d.signature = "void {name}(void* const* args, int64_t begin, int64_t end)";
  d.buffer_decl = "  {const}{type}* restrict data{i} = ({const}{type}*)args[{i}];";
  d.parallel_loop = "for (int64_t {var} = begin; {var} < end; {var}++) {";
  d.parallel_close = "}";
  d.serial_loop = "for (int64_t {var} = {begin}; {var} < {end}; {var}++) {";
  d.define = "const int64_t {var} = {value};";
  d.inf = "__builtin_inff()";
  d.nan = "__builtin_nanf(\"\")";
  d.index_type = "int64_t";
  d.types = {{
      {"_Bool", "_Bool", "{0}", "{0}"},
      {"uint8_t", "uint8_t", "{0}", "{0}"},
      {"int32_t", "int32_t", "{0}", "{0}"},
      {"int64_t", "int64_t", "{0}", "{0}"},
      {"uint16_t", "float", "pb_h2f({0})", "pb_f2h({0})"},
      {"uint16_t", "float", "pb_bf2f({0})", "pb_f2bf({0})"},
      {"float", "float", "{0}", "{0}"},
  }};
  d.alu = CStyleAlu(
      "({ {T} pb_b_; __typeof__({0}) pb_a_ = {0}; __builtin_memcpy(&pb_b_, &pb_a_, sizeof(pb_b_)); pb_b_; })");
  d.vector_typedef =
      "typedef {scalar} {vtype} __attribute__((vector_size({bytes})));\n"
      "typedef {scalar} {vtype}u __attribute__((vector_size({bytes}), aligned({align})));\n";
  d.vector_type = "pb_{scalar}x{n}";
  d.vector_load = "(*({vtype}u*)(data{buf}+{index}))";
  d.gather = "(({vtype}){{elems}})";
  d.lane = "{src}[{lane}]";
  return d;
}

}  // namespace

std::array<const char*, kNumOps> CStyleAlu(const char* bitcast) {
  return {
      "exp2f({0})", "log2f({0})", "sinf({0})", "sqrtf({0})", "(1.0f/{0})", "(-{0})", "(({T})({0}))", bitcast,
      "({0}+{1})", "({0}*{1})", "({0}>{1}?{0}:{1})", "({0}%{1})", "({0}/{1})", "({0}<{1})", "({0}!={1})",
      "({0}^{1})", "({0}&{1})", "({0}|{1})", "({0}?{1}:{2})",
      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,  // reduce, movement
      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,                             // buffer ops
  };
}

const Dialect& CDialect() {
  static const Dialect* d = new Dialect(MakeC());
  return *d;
}

const Dialect* FindDialect(const std::string& name) {
  if (name == "c") return &CDialect();
  if (name == "cuda") return &CudaDialect();
  if (name == "hip") return &HipDialect();
  return nullptr;
}

}  // namespace petabox
