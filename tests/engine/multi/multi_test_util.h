// Helpers for the multi-device tests: the virtual CPU devices CPU:0..CPU:n-1 and host
// comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace petabox::multitest {

// "CPU:0" .. "CPU:<n-1>".
inline std::vector<std::string> CpuDevices(int n) {
  std::vector<std::string> d;
  for (int i = 0; i < n; ++i) d.push_back("CPU:" + std::to_string(i));
  return d;
}

// Values in [-1, 1) that are exact in float and bfloat16 (multiples of 1/64): sums of them
// are exact in float32, so results can be compared bit for bit.
inline std::vector<float> Ramp(int64_t n, int seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(((i * 37 + seed * 11) % 128) - 64) / 64.0f;
  return v;
}

inline std::vector<float> Read(const Tensor& t) {
  StatusOr<std::vector<float>> v = t.ToFloats();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::vector<float>{};
}

// Largest |a - b|, or infinity when the sizes differ.
inline double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  return worst;
}

}  // namespace petabox::multitest
