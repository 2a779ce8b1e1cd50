// The closed set of primitive ops. Everything else (matmul, conv, softmax, ...) is
// composed from these in the frontend; the scheduler, codegen and autograd see only these.
#pragma once

#include <cstdint>

namespace petabox {

enum class Op : uint8_t {
  // unary
  kExp2, kLog2, kSin, kSqrt, kRecip, kNeg, kCast, kBitcast,
  // binary
  kAdd, kMul, kMax, kMod, kIdiv, kCmpLt, kCmpNe, kXor, kAnd, kOr,
  // ternary
  kWhere,
  // reduce (arg: axes; result keeps reduced axes with size 1)
  kReduceSum, kReduceMax,
  // movement (zero-copy: they only rewrite views). DETACH is the identity view that
  // autograd does not differentiate through.
  kReshape, kPermute, kExpand, kPad, kShrink, kFlip, kDetach,
  // buffer
  kConst, kEmpty, kCopy, kContiguous, kAssign,
  // a realized buffer (leaf); not an op a user builds
  kBuffer,
};

enum class OpClass : uint8_t { kUnary, kBinary, kTernary, kReduce, kMovement, kBuffer };

struct OpInfo {
  Op op;
  const char* name;
  OpClass cls;
  int arity;          // number of sources (-1: varies)
  bool unsafe_pad;    // f(0) != 0 (or undefined): a pad cannot be pushed through it
};

const OpInfo& Info(Op op);
inline const char* Name(Op op) { return Info(op).name; }
inline bool IsElementwise(Op op) {
  OpClass c = Info(op).cls;
  return c == OpClass::kUnary || c == OpClass::kBinary || c == OpClass::kTernary;
}
inline bool IsMovement(Op op) { return Info(op).cls == OpClass::kMovement; }
inline bool IsReduce(Op op) { return Info(op).cls == OpClass::kReduce; }
// Comparisons produce bool whatever their inputs.
inline bool IsComparison(Op op) { return op == Op::kCmpLt || op == Op::kCmpNe; }

constexpr int kNumOps = static_cast<int>(Op::kBuffer) + 1;

}  // namespace petabox
