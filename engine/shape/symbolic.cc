#include "engine/shape/symbolic.h"

#include <algorithm>
#include <cassert>

namespace petabox::sym {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

ExprRef Make(Kind kind, int64_t value, std::vector<ExprRef> srcs, int64_t mn, int64_t mx,
             std::string key) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->value = value;
  e->srcs = std::move(srcs);
  e->min = mn;
  e->max = mx;
  e->key = std::move(key);
  return e;
}

// A sum decomposed into coefficient * base terms (bases are Var/Div/Mod/Lt/And) + constant.
struct Terms {
  std::vector<std::pair<ExprRef, int64_t>> terms;  // ordered by first appearance
  int64_t constant = 0;

  void AddTerm(const ExprRef& base, int64_t coeff) {
    for (auto& [b, c] : terms) {
      if (b->key == base->key) { c += coeff; return; }
    }
    terms.emplace_back(base, coeff);
  }
  void AddExpr(const ExprRef& e, int64_t coeff) {
    switch (e->kind) {
      case Kind::kConst: constant += e->value * coeff; return;
      case Kind::kMul: AddExpr(e->srcs[0], coeff * e->value); return;
      case Kind::kAdd:
        for (const ExprRef& s : e->srcs) AddExpr(s, coeff);
        constant += e->value * coeff;
        return;
      default: AddTerm(e, coeff);
    }
  }
};

Terms Decompose(const ExprRef& e) {
  Terms t;
  t.AddExpr(e, 1);
  return t;
}

ExprRef MulTerm(const ExprRef& base, int64_t c) {
  if (c == 1) return base;
  int64_t lo = base->min * c, hi = base->max * c;
  return Make(Kind::kMul, c, {base}, std::min(lo, hi), std::max(lo, hi),
              "(" + base->key + "*" + std::to_string(c) + ")");
}

// (x/c)*(k*c) + (x%c)*k  ->  x*k : the pattern a split-then-merge reshape leaves behind.
void FoldDivMod(Terms& t) {
  for (size_t i = 0; i < t.terms.size(); ++i) {
    ExprRef mod = t.terms[i].first;
    int64_t k = t.terms[i].second;
    if (mod->kind != Kind::kMod || k == 0) continue;
    for (size_t j = 0; j < t.terms.size(); ++j) {
      const ExprRef& div = t.terms[j].first;
      if (div->kind == Kind::kDiv && div->value == mod->value &&
          div->srcs[0]->key == mod->srcs[0]->key && t.terms[j].second == k * mod->value) {
        t.terms[i].second = 0;
        t.terms[j].second = 0;
        t.AddExpr(mod->srcs[0], k);  // may grow t.terms: no references held across it
        break;
      }
    }
  }
}

ExprRef Build(Terms t) {
  FoldDivMod(t);
  std::vector<ExprRef> srcs;
  int64_t mn = t.constant, mx = t.constant;
  std::string key;
  for (auto& [base, c] : t.terms) {
    if (c == 0) continue;
    ExprRef term = MulTerm(base, c);
    mn += term->min;
    mx += term->max;
    key += (key.empty() ? "" : "+") + term->key;
    srcs.push_back(term);
  }
  if (srcs.empty()) return Const(t.constant);
  if (srcs.size() == 1 && t.constant == 0) return srcs[0];
  if (t.constant != 0) key += "+" + std::to_string(t.constant);
  return Make(Kind::kAdd, t.constant, std::move(srcs), mn, mx, "(" + key + ")");
}

}  // namespace

ExprRef Const(int64_t v) {
  return Make(Kind::kConst, v, {}, v, v, v < 0 ? "(" + std::to_string(v) + ")" : std::to_string(v));
}

ExprRef Var(const std::string& name, int64_t mn, int64_t mx) {
  if (mn == mx) return Const(mn);
  auto e = Make(Kind::kVar, 0, {}, mn, mx, name);
  const_cast<Expr*>(e.get())->name = name;
  return e;
}

ExprRef Add(const ExprRef& a, const ExprRef& b) {
  Terms t = Decompose(a);
  t.AddExpr(b, 1);
  return Build(std::move(t));
}

ExprRef Mul(const ExprRef& a, int64_t c) {
  if (c == 0) return Const(0);
  Terms t;
  t.AddExpr(a, c);
  return Build(std::move(t));
}

ExprRef Div(const ExprRef& a, int64_t c) {
  assert(c > 0);
  if (c == 1) return a;
  if (a->kind == Kind::kConst) return Const(FloorDiv(a->value, c));
  if (a->min >= 0 && a->max < c) return Const(0);
  if (a->kind == Kind::kDiv && a->srcs[0]->min >= 0) return Div(a->srcs[0], a->value * c);
  // Pull out the terms that are multiples of c; keep the rest under the division.
  Terms t = Decompose(a), whole, rest;
  for (auto& [base, k] : t.terms) {
    if (k % c == 0) whole.AddTerm(base, k / c);
    else rest.AddTerm(base, k);
  }
  whole.constant = FloorDiv(t.constant, c);
  rest.constant = FloorMod(t.constant, c);
  if (!whole.terms.empty() || whole.constant != 0) {
    ExprRef r = Build(rest);
    if (r->min >= 0) return Add(Build(whole), Div(r, c));
  }
  return Make(Kind::kDiv, c, {a}, FloorDiv(a->min, c), FloorDiv(a->max, c),
              "(" + a->key + "/" + std::to_string(c) + ")");
}

ExprRef Mod(const ExprRef& a, int64_t c) {
  assert(c > 0);
  if (c == 1) return Const(0);
  if (a->kind == Kind::kConst) return Const(FloorMod(a->value, c));
  if (a->min >= 0 && a->max < c) return a;
  if (a->kind == Kind::kMod && a->value % c == 0) return Mod(a->srcs[0], c);
  // (x + c*q*y) % c == x % c: reduce every coefficient modulo c.
  Terms t = Decompose(a), rest;
  bool dropped = false;
  for (auto& [base, k] : t.terms) {
    int64_t r = FloorMod(k, c);
    dropped |= r != k;
    if (r != 0) rest.AddTerm(base, r);
  }
  rest.constant = FloorMod(t.constant, c);
  dropped |= rest.constant != t.constant;
  if (dropped) {
    ExprRef r = Build(rest);
    if (r->min >= 0) return Mod(r, c);
  }
  int64_t mn = a->min >= 0 ? 0 : -(c - 1);
  int64_t mx = a->min >= 0 ? std::min(c - 1, a->max) : c - 1;
  return Make(Kind::kMod, c, {a}, mn, mx, "(" + a->key + "%" + std::to_string(c) + ")");
}

ExprRef Lt(const ExprRef& a, int64_t c) {
  if (a->max < c) return Const(1);
  if (a->min >= c) return Const(0);
  return Make(Kind::kLt, c, {a}, 0, 1, "(" + a->key + "<" + std::to_string(c) + ")");
}

ExprRef Ge(const ExprRef& a, int64_t c) { return Lt(Mul(a, -1), -c + 1); }

ExprRef And(const ExprRef& a, const ExprRef& b) {
  if (IsConst(a, 0) || IsConst(b, 0)) return Const(0);
  if (IsConst(a, 1)) return b;
  if (IsConst(b, 1)) return a;
  if (a->key == b->key) return a;
  return Make(Kind::kAnd, 0, {a, b}, 0, 1, "(" + a->key + "&&" + b->key + ")");
}

ExprRef Substitute(const ExprRef& e, const std::map<std::string, ExprRef>& values) {
  switch (e->kind) {
    case Kind::kConst: return e;
    case Kind::kVar: {
      auto it = values.find(e->name);
      return it == values.end() ? e : it->second;
    }
    case Kind::kAdd: {
      ExprRef acc = Const(e->value);
      for (const ExprRef& s : e->srcs) acc = Add(acc, Substitute(s, values));
      return acc;
    }
    case Kind::kMul: return Mul(Substitute(e->srcs[0], values), e->value);
    case Kind::kDiv: return Div(Substitute(e->srcs[0], values), e->value);
    case Kind::kMod: return Mod(Substitute(e->srcs[0], values), e->value);
    case Kind::kLt: return Lt(Substitute(e->srcs[0], values), e->value);
    case Kind::kAnd: return And(Substitute(e->srcs[0], values), Substitute(e->srcs[1], values));
  }
  return e;
}

int64_t Eval(const ExprRef& e, const std::map<std::string, int64_t>& values) {
  switch (e->kind) {
    case Kind::kConst: return e->value;
    case Kind::kVar: return values.at(e->name);
    case Kind::kAdd: {
      int64_t v = e->value;
      for (const ExprRef& s : e->srcs) v += Eval(s, values);
      return v;
    }
    case Kind::kMul: return Eval(e->srcs[0], values) * e->value;
    case Kind::kDiv: return Eval(e->srcs[0], values) / e->value;
    case Kind::kMod: return Eval(e->srcs[0], values) % e->value;
    case Kind::kLt: return Eval(e->srcs[0], values) < e->value;
    case Kind::kAnd: return Eval(e->srcs[0], values) && Eval(e->srcs[1], values);
  }
  return 0;
}

bool Uses(const ExprRef& e, const std::string& var) {
  if (e->kind == Kind::kVar) return e->name == var;
  return std::any_of(e->srcs.begin(), e->srcs.end(), [&](const ExprRef& s) { return Uses(s, var); });
}

std::optional<int64_t> LinearCoeff(const ExprRef& e, const std::string& var) {
  Terms t = Decompose(e);
  int64_t coeff = 0;
  for (auto& [base, k] : t.terms) {
    if (base->kind == Kind::kVar && base->name == var) coeff += k;
    else if (Uses(base, var)) return std::nullopt;
  }
  return coeff;
}

}  // namespace petabox::sym
