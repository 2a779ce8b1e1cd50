#include "engine/autocast.h"

namespace petabox {
namespace {

thread_local std::optional<DType> autocast_dtype;

bool IsHalf(DType d) { return d == DType::kFloat16 || d == DType::kBFloat16; }

}  // namespace

AutocastGuard::AutocastGuard(DType dtype) : previous_(autocast_dtype) {
  autocast_dtype = IsHalf(dtype) ? std::optional<DType>(dtype) : std::nullopt;
}

AutocastGuard::~AutocastGuard() { autocast_dtype = previous_; }

std::optional<DType> AutocastGuard::Active() { return autocast_dtype; }

Tensor AutocastLow(const Tensor& t) {
  if (!autocast_dtype || !t.ok() || !IsFloat(t.dtype()) || t.dtype() == *autocast_dtype) return t;
  return t.Cast(*autocast_dtype);
}

Tensor AutocastWide(const Tensor& t) {
  if (!autocast_dtype || !t.ok() || !IsHalf(t.dtype())) return t;
  return t.Cast(DType::kFloat32);
}

}  // namespace petabox
