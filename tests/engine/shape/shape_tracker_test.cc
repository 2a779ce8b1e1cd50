// ShapeTracker against a naive model: a dense array of buffer indices (-1 = padding) that
// every movement op rewrites element by element. Random op sequences on random shapes must
// give the same index and validity at every position.
#include "engine/shape/shape_tracker.h"

#include <gtest/gtest.h>

#include <random>

namespace petabox {
namespace {

struct Dense {
  Shape shape;
  std::vector<int64_t> idx;  // buffer index per element, -1 when padded

  int64_t Flat(const std::vector<int64_t>& pos) const {
    int64_t f = 0;
    for (size_t i = 0; i < shape.size(); ++i) f = f * shape[i] + pos[i];
    return f;
  }
  std::vector<int64_t> Unflat(int64_t f, const Shape& s) const {
    std::vector<int64_t> pos(s.size());
    for (size_t i = s.size(); i-- > 0;) { pos[i] = f % s[i]; f /= s[i]; }
    return pos;
  }
  template <typename F>  // F(new_pos) -> old element index or -1
  Dense Map(const Shape& out, F f) const {
    Dense d{out, std::vector<int64_t>(Product(out))};
    for (int64_t i = 0; i < Product(out); ++i) {
      int64_t src = f(Unflat(i, out));
      d.idx[i] = src < 0 ? -1 : idx[src];
    }
    return d;
  }
};

std::vector<sym::ExprRef> Vars(const Shape& s) {
  std::vector<sym::ExprRef> v;
  for (size_t i = 0; i < s.size(); ++i) v.push_back(sym::Var("i" + std::to_string(i), 0, s[i] - 1));
  return v;
}

void ExpectSame(const ShapeTracker& st, const Dense& d, const std::string& trace) {
  ASSERT_EQ(st.shape(), d.shape) << trace;
  auto [index, valid] = st.IndexExpr(Vars(d.shape));
  for (int64_t f = 0; f < Product(d.shape); ++f) {
    std::vector<int64_t> pos = d.Unflat(f, d.shape);
    std::map<std::string, int64_t> env;
    for (size_t i = 0; i < pos.size(); ++i) env["i" + std::to_string(i)] = pos[i];
    bool ok = sym::Eval(valid, env) != 0;
    ASSERT_EQ(ok, d.idx[f] >= 0) << trace << " at flat " << f << "\n" << st.ToString() << "\nvalid=" << sym::Render(valid);
    if (ok) {
      ASSERT_EQ(sym::Eval(index, env), d.idx[f]) << trace << " at flat " << f << "\n" << st.ToString()
                                                 << "\nindex=" << sym::Render(index);
    }
  }
}

// Applies one random movement op to both models; returns its description.
std::string RandomOp(std::mt19937& rng, ShapeTracker& st, Dense& d) {
  auto rnd = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const Shape s = d.shape;
  int nd = static_cast<int>(s.size());
  switch (rnd(6)) {
    case 0: {  // permute
      std::vector<int> order(nd);
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      Shape out;
      for (int a : order) out.push_back(s[a]);
      d = d.Map(out, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q(nd);
        for (int i = 0; i < nd; ++i) q[order[i]] = p[i];
        return d.Flat(q);
      });
      st = st.Permute(order);
      return "permute ";
    }
    case 1: {  // pad
      std::vector<Range> pads;
      Shape out;
      for (int i = 0; i < nd; ++i) { pads.push_back({rnd(2), rnd(2)}); out.push_back(s[i] + pads[i].first + pads[i].second); }
      d = d.Map(out, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q(nd);
        for (int i = 0; i < nd; ++i) {
          q[i] = p[i] - pads[i].first;
          if (q[i] < 0 || q[i] >= s[i]) return int64_t{-1};
        }
        return d.Flat(q);
      });
      st = st.Pad(pads);
      return "pad ";
    }
    case 2: {  // shrink
      std::vector<Range> r;
      Shape out;
      for (int i = 0; i < nd; ++i) {
        int64_t b = rnd(std::max<int64_t>(1, s[i] / 2)), e = s[i] - rnd(std::max<int64_t>(1, (s[i] - b) / 2));
        r.push_back({b, e});
        out.push_back(e - b);
      }
      d = d.Map(out, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q(nd);
        for (int i = 0; i < nd; ++i) q[i] = p[i] + r[i].first;
        return d.Flat(q);
      });
      st = st.Shrink(r);
      return "shrink ";
    }
    case 3: {  // flip
      std::vector<bool> axes(nd);
      for (int i = 0; i < nd; ++i) axes[i] = rnd(2);
      d = d.Map(s, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q = p;
        for (int i = 0; i < nd; ++i) if (axes[i]) q[i] = s[i] - 1 - p[i];
        return d.Flat(q);
      });
      st = st.Flip(axes);
      return "flip ";
    }
    case 4: {  // expand a size-1 dim (insert one first via reshape)
      Shape with1 = s;
      int at = static_cast<int>(rnd(nd + 1));
      with1.insert(with1.begin() + at, 1);
      Shape out = with1;
      out[at] = 1 + rnd(3);
      st = st.Reshape(with1).Expand(out);
      d = d.Map(out, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q = p;
        q.erase(q.begin() + at);
        return d.Flat(q);
      });
      return "expand ";
    }
    default: {  // reshape: merge or split dims, keeping the element order
      Shape out;
      if (nd >= 2 && rnd(2)) {
        int at = static_cast<int>(rnd(nd - 1));
        out = s;
        out[at] *= out[at + 1];
        out.erase(out.begin() + at + 1);
      } else {
        int at = static_cast<int>(rnd(nd));
        out = s;
        int64_t f = s[at] % 2 == 0 ? 2 : (s[at] % 3 == 0 ? 3 : 1);
        out[at] /= f;
        out.insert(out.begin() + at + 1, f);
      }
      d = d.Map(out, [&](const std::vector<int64_t>& p) {
        int64_t f = 0;
        for (size_t i = 0; i < out.size(); ++i) f = f * out[i] + p[i];
        return f;
      });
      st = st.Reshape(out);
      return "reshape ";
    }
  }
}

TEST(ShapeTrackerTest, RandomMovementSequencesMatchNaiveModel) {
  std::mt19937 rng(20261121);
  for (int trial = 0; trial < 300; ++trial) {
    Shape s;
    int nd = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < nd; ++i) s.push_back(1 + static_cast<int64_t>(rng() % 6));
    ShapeTracker st = ShapeTracker::FromShape(s);
    Dense d{s, std::vector<int64_t>(Product(s))};
    std::iota(d.idx.begin(), d.idx.end(), 0);
    std::string trace = ShapeToString(s) + ": ";
    for (int step = 0; step < 6 && Product(d.shape) <= 4096; ++step) {
      trace += RandomOp(rng, st, d);
      ExpectSame(st, d, trace);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(ShapeTrackerTest, ContiguousIndexIsPlainVariable) {
  ShapeTracker st = ShapeTracker::FromShape({64});
  auto [index, valid] = st.IndexExpr({sym::Var("g0", 0, 63)});
  EXPECT_EQ(sym::Render(index), "g0");
  EXPECT_TRUE(sym::IsConst(valid, 1));
}

TEST(ShapeTrackerTest, SplitThenMergeFoldsBackToOneView) {
  ShapeTracker st = ShapeTracker::FromShape({4, 6}).Permute({1, 0}).Reshape({24});
  ASSERT_EQ(st.views().size(), 2u);  // a transpose flattened needs a second view
  ShapeTracker back = st.Reshape({6, 4});
  EXPECT_EQ(back.views().size(), 1u) << back.ToString();
}

TEST(ShapeTrackerTest, PadIsAMask) {
  ShapeTracker st = ShapeTracker::FromShape({3}).Pad({{1, 2}});
  EXPECT_EQ(st.shape(), (Shape{6}));
  EXPECT_TRUE(st.HasMask());
  auto [index, valid] = st.IndexExpr({sym::Var("i", 0, 5)});
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(sym::Eval(valid, {{"i", i}}) != 0, i >= 1 && i < 4) << i;
}

}  // namespace
}  // namespace petabox
