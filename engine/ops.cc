#include "engine/ops.h"

namespace petabox {
namespace {

using C = OpClass;
// Indexed by Op; the order must match the enum (checked in ops_test).
constexpr OpInfo kOps[] = {
    {Op::kExp2, "EXP2", C::kUnary, 1, true},
    {Op::kLog2, "LOG2", C::kUnary, 1, true},
    {Op::kSin, "SIN", C::kUnary, 1, false},
    {Op::kSqrt, "SQRT", C::kUnary, 1, false},
    {Op::kRecip, "RECIPROCAL", C::kUnary, 1, true},
    {Op::kNeg, "NEG", C::kUnary, 1, false},
    {Op::kCast, "CAST", C::kUnary, 1, false},
    {Op::kBitcast, "BITCAST", C::kUnary, 1, false},
    {Op::kAdd, "ADD", C::kBinary, 2, false},
    {Op::kMul, "MUL", C::kBinary, 2, false},
    {Op::kMax, "MAX", C::kBinary, 2, false},
    {Op::kMod, "MOD", C::kBinary, 2, true},
    {Op::kIdiv, "IDIV", C::kBinary, 2, true},
    {Op::kCmpLt, "CMPLT", C::kBinary, 2, false},
    {Op::kCmpNe, "CMPNE", C::kBinary, 2, false},
    {Op::kXor, "XOR", C::kBinary, 2, false},
    {Op::kAnd, "AND", C::kBinary, 2, false},
    {Op::kOr, "OR", C::kBinary, 2, false},
    {Op::kWhere, "WHERE", C::kTernary, 3, false},
    {Op::kReduceSum, "SUM", C::kReduce, 1, false},
    {Op::kReduceMax, "MAX_REDUCE", C::kReduce, 1, false},
    {Op::kReshape, "RESHAPE", C::kMovement, 1, false},
    {Op::kPermute, "PERMUTE", C::kMovement, 1, false},
    {Op::kExpand, "EXPAND", C::kMovement, 1, false},
    {Op::kPad, "PAD", C::kMovement, 1, false},
    {Op::kShrink, "SHRINK", C::kMovement, 1, false},
    {Op::kFlip, "FLIP", C::kMovement, 1, false},
    {Op::kDetach, "DETACH", C::kMovement, 1, false},
    {Op::kConst, "CONST", C::kBuffer, 0, false},
    {Op::kEmpty, "EMPTY", C::kBuffer, 0, false},
    {Op::kCopy, "COPY", C::kBuffer, 1, false},
    {Op::kContiguous, "CONTIGUOUS", C::kBuffer, 1, false},
    {Op::kAssign, "ASSIGN", C::kBuffer, 2, false},
    {Op::kBuffer, "BUFFER", C::kBuffer, 0, false},
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == kNumOps);

}  // namespace

const OpInfo& Info(Op op) { return kOps[static_cast<int>(op)]; }

}  // namespace petabox
