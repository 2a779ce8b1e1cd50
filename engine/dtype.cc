#include "engine/dtype.h"

#include <cmath>
#include <cstring>

namespace petabox {
namespace {

constexpr DTypeInfo kInfos[] = {
    {DType::kBool, "bool", 1, false, false, 0},
    {DType::kUInt8, "uint8", 1, false, false, 1},
    {DType::kInt32, "int32", 4, false, true, 2},
    {DType::kInt64, "int64", 8, false, true, 3},
    {DType::kFloat16, "float16", 2, true, true, 4},
    {DType::kBFloat16, "bfloat16", 2, true, true, 4},
    {DType::kFloat32, "float32", 4, true, true, 5},
};

struct Alias { const char* name; DType dtype; };
constexpr Alias kAliases[] = {
    {"bool", DType::kBool},       {"uint8", DType::kUInt8},     {"u8", DType::kUInt8},
    {"int32", DType::kInt32},     {"i32", DType::kInt32},       {"int", DType::kInt32},
    {"int64", DType::kInt64},     {"i64", DType::kInt64},       {"long", DType::kInt64},
    {"float16", DType::kFloat16}, {"f16", DType::kFloat16},     {"half", DType::kFloat16},
    {"bfloat16", DType::kBFloat16}, {"bf16", DType::kBFloat16},
    {"float32", DType::kFloat32}, {"f32", DType::kFloat32},     {"float", DType::kFloat32},
};

}  // namespace

const DTypeInfo& Info(DType dtype) { return kInfos[static_cast<int>(dtype)]; }

StatusOr<DType> ParseDType(std::string_view name) {
  for (const Alias& a : kAliases)
    if (name == a.name) return a.dtype;
  return InvalidArgument("unknown dtype '" + std::string(name) +
                         "' (expected one of bool, uint8, int32, int64, float16, bfloat16, float32)");
}

DType Promote(DType a, DType b) {
  if (a == b) return a;
  const DTypeInfo& ia = Info(a);
  const DTypeInfo& ib = Info(b);
  if (ia.is_float && ib.is_float) return ia.priority == ib.priority ? DType::kFloat32
                                         : (ia.priority > ib.priority ? a : b);
  if (ia.is_float) return a;
  if (ib.is_float) return b;
  return ia.priority > ib.priority ? a : b;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: correct
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      float f = std::ldexp(static_cast<float>(mant), -24);
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // NaN
  x += 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

float BFloat16ToFloat(uint16_t b) {
  uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

double ReadElement(const void* data, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::kBool: return static_cast<const uint8_t*>(data)[i] ? 1.0 : 0.0;
    case DType::kUInt8: return static_cast<const uint8_t*>(data)[i];
    case DType::kInt32: return static_cast<const int32_t*>(data)[i];
    case DType::kInt64: return static_cast<double>(static_cast<const int64_t*>(data)[i]);
    case DType::kFloat16: return HalfToFloat(static_cast<const uint16_t*>(data)[i]);
    case DType::kBFloat16: return BFloat16ToFloat(static_cast<const uint16_t*>(data)[i]);
    case DType::kFloat32: return static_cast<const float*>(data)[i];
  }
  return 0;
}

void WriteElement(void* data, DType dtype, int64_t i, double v) {
  switch (dtype) {
    case DType::kBool: static_cast<uint8_t*>(data)[i] = v != 0; break;
    case DType::kUInt8: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(static_cast<int64_t>(v)); break;
    case DType::kInt32: static_cast<int32_t*>(data)[i] = static_cast<int32_t>(v); break;
    case DType::kInt64: static_cast<int64_t*>(data)[i] = static_cast<int64_t>(v); break;
    case DType::kFloat16: static_cast<uint16_t*>(data)[i] = FloatToHalf(static_cast<float>(v)); break;
    case DType::kBFloat16: static_cast<uint16_t*>(data)[i] = FloatToBFloat16(static_cast<float>(v)); break;
    case DType::kFloat32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
  }
}

}  // namespace petabox
