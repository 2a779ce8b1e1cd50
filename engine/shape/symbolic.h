// Integer index expressions over loop variables, simplified on construction.
//
// Views turn into these (address = sum(idx * stride) + offset, validity = mask bounds);
// the smart constructors fold constants, combine like terms and remove div/mod that
// ranges prove redundant, so contiguous access ends up as the plain loop variable.
// Expressions are immutable and shared; equality is structural (on the rendered key).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace petabox::sym {

enum class Kind : uint8_t { kConst, kVar, kAdd, kMul, kDiv, kMod, kLt, kAnd };

struct Expr;
using ExprRef = std::shared_ptr<const Expr>;

struct Expr {
  Kind kind;
  int64_t value = 0;          // const value, multiplier (kMul), divisor, modulus, bound (kLt)
  std::string name;           // kVar
  std::vector<ExprRef> srcs;  // operands
  int64_t min = 0, max = 0;   // inclusive bounds of the value
  std::string key;            // rendered C expression; identical key <=> identical expr
};

ExprRef Const(int64_t v);
// A loop variable taking values in [min, max].
ExprRef Var(const std::string& name, int64_t min, int64_t max);
ExprRef Add(const ExprRef& a, const ExprRef& b);
ExprRef Mul(const ExprRef& a, int64_t c);
// Floor division / modulo by a positive constant (operands are non-negative indices).
ExprRef Div(const ExprRef& a, int64_t c);
ExprRef Mod(const ExprRef& a, int64_t c);
// a < c, as 0/1.
ExprRef Lt(const ExprRef& a, int64_t c);
// a >= c, as 0/1.
ExprRef Ge(const ExprRef& a, int64_t c);
ExprRef And(const ExprRef& a, const ExprRef& b);

inline bool IsConst(const ExprRef& e, int64_t v) { return e->kind == Kind::kConst && e->value == v; }
// C source for the expression.
inline const std::string& Render(const ExprRef& e) { return e->key; }
// Replaces variables by expressions and re-simplifies.
ExprRef Substitute(const ExprRef& e, const std::map<std::string, ExprRef>& values);
// Evaluates with C semantics for non-negative division operands.
int64_t Eval(const ExprRef& e, const std::map<std::string, int64_t>& values);
// True when variable `var` occurs in e.
bool Uses(const ExprRef& e, const std::string& var);
// If e == c * var + (terms without var), returns c (0 when var does not occur).
std::optional<int64_t> LinearCoeff(const ExprRef& e, const std::string& var);

}  // namespace petabox::sym
