// Element types of the engine and their promotion rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/util/status.h"

namespace petabox {

enum class DType : uint8_t { kBool, kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32 };

struct DTypeInfo {
  DType dtype;
  const char* name;      // "float32", ...
  int itemsize;          // bytes per element
  bool is_float;
  bool is_signed;
  int priority;          // promotion lattice rank (higher wins among same kind)
};

const DTypeInfo& Info(DType dtype);
inline const char* Name(DType d) { return Info(d).name; }
inline int ItemSize(DType d) { return Info(d).itemsize; }
inline bool IsFloat(DType d) { return Info(d).is_float; }
inline bool IsInt(DType d) { return !Info(d).is_float && d != DType::kBool; }

// Parses "float32", "f32", "float16", "half", "bfloat16", "int32", ... .
StatusOr<DType> ParseDType(std::string_view name);

// PyTorch/NumPy-style promotion: bool < uint8 < int32 < int64 < float16|bfloat16 < float32;
// float16 with bfloat16 gives float32; any int with any float gives the float.
DType Promote(DType a, DType b);

// Bit conversions used for the 16-bit float types (host side; round to nearest even).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBFloat16(float f);
float BFloat16ToFloat(uint16_t b);

// Reads/writes element i of a host buffer of `dtype` as a double.
double ReadElement(const void* data, DType dtype, int64_t i);
void WriteElement(void* data, DType dtype, int64_t i, double value);

}  // namespace petabox
