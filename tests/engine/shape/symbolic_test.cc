#include "engine/shape/symbolic.h"

#include <gtest/gtest.h>

#include <random>

namespace petabox::sym {
namespace {

TEST(SymbolicTest, FoldsConstantsAndLikeTerms) {
  ExprRef x = Var("x", 0, 9);
  EXPECT_EQ(Render(Add(Mul(x, 2), Mul(x, 3))), "(x*5)");
  EXPECT_EQ(Render(Add(Add(x, Const(3)), Const(-3))), "x");
  EXPECT_TRUE(IsConst(Mul(x, 0), 0));
}

TEST(SymbolicTest, DivModByRange) {
  ExprRef x = Var("x", 0, 7), y = Var("y", 0, 3);
  EXPECT_TRUE(IsConst(Div(x, 8), 0));
  EXPECT_EQ(Render(Mod(x, 8)), "x");
  ExprRef flat = Add(Mul(y, 8), x);  // y*8 + x with x < 8
  EXPECT_EQ(Render(Div(flat, 8)), "y");
  EXPECT_EQ(Render(Mod(flat, 8)), "x");
  EXPECT_EQ(Render(Add(Mul(Div(Var("z", 0, 99), 4), 4), Mod(Var("z", 0, 99), 4))), "z");
}

TEST(SymbolicTest, RandomExpressionsEvaluateLikeIntegers) {
  std::mt19937 rng(7);
  for (int t = 0; t < 500; ++t) {
    ExprRef a = Var("a", 0, 12), b = Var("b", 0, 5);
    int64_t ca = 1 + rng() % 7, cb = 1 + rng() % 5, d = 1 + rng() % 9, c = rng() % 11;
    ExprRef e = Add(Add(Mul(a, ca), Mul(b, cb)), Const(c));
    int64_t bound = static_cast<int64_t>(rng() % 40);
    ExprRef q = Div(e, d), r = Mod(e, d), l = Lt(e, bound);
    for (int64_t av = 0; av <= 12; ++av)
      for (int64_t bv = 0; bv <= 5; ++bv) {
        int64_t v = av * ca + bv * cb + c;
        std::map<std::string, int64_t> env{{"a", av}, {"b", bv}};
        ASSERT_EQ(Eval(q, env), v / d) << Render(q);
        ASSERT_EQ(Eval(r, env), v % d) << Render(r);
        ASSERT_EQ(Eval(l, env), v < bound ? 1 : 0) << Render(l);
        ASSERT_GE(v / d, q->min);
        ASSERT_LE(v / d, q->max);
      }
  }
}

TEST(SymbolicTest, LinearCoefficient) {
  ExprRef v = Var("v", 0, 15), g = Var("g", 0, 9);
  EXPECT_EQ(LinearCoeff(Add(Mul(g, 16), v), "v"), 1);
  EXPECT_EQ(LinearCoeff(Mul(g, 16), "v"), 0);
  EXPECT_FALSE(LinearCoeff(Div(Add(Mul(g, 16), v), 4), "v").has_value());
}

}  // namespace
}  // namespace petabox::sym
