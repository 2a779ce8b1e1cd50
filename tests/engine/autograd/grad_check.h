// Gradient checking for the autograd suite.
//
// ExpectGradients(inputs, engine_fn, host_fn) builds y = engine_fn(leaves) on the engine,
// projects it onto a random r (loss = sum(y * r), so every output element matters), runs
// Backward() and compares each leaf's grad() with the central finite difference of
// sum(host_fn(inputs) * r) computed on the host in double precision. host_fn is written
// with the naive reference of tests/engine/tensor/reference.h, so the check shares nothing
// with the engine but the inputs.
//
// Test-only; single-threaded (gtest runs tests sequentially).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox::gradtest {

using testref::HostArray;

using EngineFn = std::function<Tensor(const std::vector<Tensor>&)>;
using HostFn = std::function<HostArray(const std::vector<HostArray>&)>;

// |engine - numeric| <= atol + rtol * |numeric|, for the forward value and every gradient.
struct Tolerance {
  double atol = 1e-4;
  double rtol = 1e-3;
};

// Random values in [lo, hi) (float32-exact) that are pairwise at least (hi - lo) / (2 n) apart
// and never within that distance of zero-crossings of each other: a shuffled ladder of n
// evenly spaced levels, each jittered inside the middle half of its slot. For max, relu,
// abs and pooling this keeps every kink far outside a finite-difference step.
inline HostArray DistinctHost(const Shape& shape, double lo = -2, double hi = 2,
                              uint64_t seed = testref::NextSeed()) {
  HostArray a = HostArray::Filled(shape, 0);
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> jitter(0.25, 0.75);
  double step = (hi - lo) / static_cast<double>(std::max<int64_t>(a.numel(), 1));
  for (int64_t i = 0; i < a.numel(); ++i)
    a.data[i] = static_cast<double>(static_cast<float>(lo + (static_cast<double>(i) + jitter(gen)) * step));
  std::shuffle(a.data.begin(), a.data.end(), gen);
  return a;
}

// sum(f(inputs) * r) in double.
inline double Projected(const HostFn& f, const std::vector<HostArray>& inputs, const HostArray& r) {
  HostArray y = f(inputs);
  EXPECT_EQ(y.numel(), r.numel()) << "host function changed its output shape under perturbation";
  double s = 0;
  for (int64_t i = 0; i < std::min(y.numel(), r.numel()); ++i) s += y.data[i] * r.data[i];
  return s;
}

// d sum(f(inputs) * r) / d inputs[k], by central differences with step eps, in double.
inline HostArray NumericGradient(const HostFn& f, std::vector<HostArray> inputs, size_t k, const HostArray& r,
                                 double eps = 1e-5) {
  HostArray g = HostArray::Filled(inputs[k].shape, 0);
  for (int64_t j = 0; j < inputs[k].numel(); ++j) {
    double v = inputs[k].data[j];
    inputs[k].data[j] = v + eps;
    double plus = Projected(f, inputs, r);
    inputs[k].data[j] = v - eps;
    double minus = Projected(f, inputs, r);
    inputs[k].data[j] = v;
    g.data[j] = (plus - minus) / (2 * eps);
  }
  return g;
}

// Checks `got` against `want`, realizing all of them in one schedule first (shared work is
// computed once, and each is made contiguous so reading it back needs no further kernel).
// A missing gradient (one Backward never reached) is a failure. `names` label the failures.
inline void ExpectAllClose(const std::vector<Tensor>& got, const std::vector<HostArray>& want,
                           const std::vector<std::string>& names, Tolerance tol) {
  ASSERT_EQ(got.size(), want.size());
  std::vector<Tensor> dense;
  std::vector<Tensor*> ptrs;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_TRUE(got[k].node() != nullptr) << names[k] << ": missing (Backward did not reach it)";
    ASSERT_TRUE(got[k].ok()) << names[k] << ": " << got[k].status().ToString();
    dense.push_back(got[k].Contiguous());
  }
  for (Tensor& t : dense) ptrs.push_back(&t);
  Status s = RealizeAll(ptrs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (size_t k = 0; k < dense.size(); ++k) {
    SCOPED_TRACE(names[k]);
    testref::ExpectClose(dense[k], want[k], tol.atol, tol.rtol);
  }
}

// The check described at the top of this file. Every input is a float32 leaf that requires
// grad (non-differentiable operands, e.g. class indices, are captured by the lambdas).
inline void ExpectGradients(const std::vector<HostArray>& inputs, const EngineFn& engine, const HostFn& host,
                            Tolerance tol = {}) {
  std::vector<Tensor> leaves;
  for (const HostArray& a : inputs) {
    Tensor t = testref::ToTensor(a);
    t.RequiresGrad();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    leaves.push_back(t);
  }
  Tensor y = engine(leaves);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  HostArray want_y = host(inputs);
  ASSERT_EQ(y.shape(), want_y.shape) << "forward shape";
  HostArray r = testref::RandomHost(want_y.shape, testref::NextSeed(), -1, 1);
  Status s = y.Mul(testref::ToTensor(r)).Sum().Backward();
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<Tensor> got;
  std::vector<HostArray> want;
  std::vector<std::string> names;
  for (size_t k = 0; k < leaves.size(); ++k) {
    got.push_back(leaves[k].grad());
    want.push_back(NumericGradient(host, inputs, k, r));
    names.push_back("gradient of input " + std::to_string(k));
    EXPECT_EQ(got.back().shape(), inputs[k].shape) << names.back();
    EXPECT_EQ(got.back().dtype(), DType::kFloat32) << names.back();
  }
  ExpectAllClose(got, want, names, tol);
  // The forward value is the conformance suite's business (tests/engine/tensor); it is
  // compared here only to tell a wrong gradient from a host function that differs from the
  // engine's (it costs kernels: a cold cache compiles each once).
  if (::testing::Test::HasFailure()) ExpectAllClose({y}, {want_y}, {"forward value (diagnostic)"}, tol);
}

// One-input form.
inline void ExpectGradient(const HostArray& x, const std::function<Tensor(const Tensor&)>& engine,
                           const std::function<HostArray(const HostArray&)>& host, Tolerance tol = {}) {
  ExpectGradients(
      {x}, [&](const std::vector<Tensor>& in) { return engine(in[0]); },
      [&](const std::vector<HostArray>& in) { return host(in[0]); }, tol);
}

}  // namespace petabox::gradtest
