#include "engine/shape/view.h"

#include <algorithm>

namespace petabox {

int64_t Product(const Shape& shape) {
  int64_t p = 1;
  for (int64_t s : shape) p *= s;
  return p;
}

Shape ContiguousStrides(const Shape& shape) {
  Shape strides(shape.size(), 0);
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = shape[i] == 1 ? 0 : acc;
    acc *= shape[i];
  }
  return strides;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

View View::Contiguous(const Shape& shape) { return Make(shape, ContiguousStrides(shape), 0, std::nullopt); }

View View::Make(Shape shape, Shape strides, int64_t offset, std::optional<std::vector<Range>> mask) {
  View v;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1) strides[i] = 0;
  if (mask) {
    bool full = true, empty = false;
    for (size_t i = 0; i < shape.size(); ++i) {
      auto& [lo, hi] = (*mask)[i];
      lo = std::clamp<int64_t>(lo, 0, shape[i]);
      hi = std::clamp<int64_t>(hi, lo, shape[i]);
      full &= lo == 0 && hi == shape[i];
      empty |= lo == hi;
    }
    if (full) mask.reset();
    if (empty) {  // nothing is valid: canonical all-invalid view
      for (auto& r : *mask) r = {0, 0};
      strides.assign(shape.size(), 0);
      offset = 0;
    }
  }
  v.contiguous = offset == 0 && !mask && strides == ContiguousStrides(shape);
  v.shape = std::move(shape);
  v.strides = std::move(strides);
  v.offset = offset;
  v.mask = std::move(mask);
  return v;
}

View View::Permute(const std::vector<int>& order) const {
  Shape sh, st;
  std::optional<std::vector<Range>> m;
  if (mask) m.emplace();
  for (int a : order) {
    sh.push_back(shape[a]);
    st.push_back(strides[a]);
    if (mask) m->push_back((*mask)[a]);
  }
  return Make(sh, st, offset, m);
}

View View::Expand(const Shape& new_shape) const {
  auto m = mask;
  if (m) {
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] != new_shape[i]) (*m)[i] = (*m)[i].second > (*m)[i].first ? Range{0, new_shape[i]} : Range{0, 0};
  }
  return Make(new_shape, strides, offset, m);
}

View View::Pad(const std::vector<Range>& pads) const {
  Shape sh = shape;
  int64_t off = offset;
  std::vector<Range> m(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    auto [b, a] = pads[i];
    Range old = mask ? (*mask)[i] : Range{0, shape[i]};
    m[i] = {old.first + b, old.second + b};
    sh[i] += b + a;
    off -= b * strides[i];
  }
  return Make(sh, strides, off, m);
}

View View::Shrink(const std::vector<Range>& ranges) const {
  Shape sh(shape.size());
  int64_t off = offset;
  std::optional<std::vector<Range>> m;
  if (mask) m.emplace(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    auto [b, e] = ranges[i];
    sh[i] = e - b;
    off += b * strides[i];
    if (mask) (*m)[i] = {std::max<int64_t>((*mask)[i].first - b, 0), std::min((*mask)[i].second - b, e - b)};
  }
  return Make(sh, strides, off, m);
}

View View::Flip(const std::vector<bool>& axes) const {
  Shape st = strides;
  int64_t off = offset;
  auto m = mask;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!axes[i]) continue;
    off += (shape[i] - 1) * strides[i];
    st[i] = -strides[i];
    if (m) (*m)[i] = {shape[i] - (*m)[i].second, shape[i] - (*m)[i].first};
  }
  return Make(shape, st, off, m);
}

namespace {

// One group of old dims [ob, oe) that maps onto new dims [nb, ne) with equal products.
struct Group { size_t ob, oe, nb, ne; };

std::vector<Group> MatchGroups(const Shape& old_shape, const Shape& new_shape) {
  std::vector<Group> groups;
  size_t i = 0, j = 0;
  while (i < old_shape.size() || j < new_shape.size()) {
    Group g{i, i, j, j};
    int64_t po = 1, pn = 1;
    if (i < old_shape.size()) po *= old_shape[i++];
    if (j < new_shape.size()) pn *= new_shape[j++];
    while (po != pn) {
      if (po < pn) po *= old_shape[i++];
      else pn *= new_shape[j++];
    }
    while (i < old_shape.size() && old_shape[i] == 1) ++i;  // size-1 dims ride along
    while (j < new_shape.size() && new_shape[j] == 1) ++j;
    g.oe = i;
    g.ne = j;
    groups.push_back(g);
  }
  return groups;
}

}  // namespace

std::optional<View> View::Reshape(const Shape& new_shape) const {
  if (new_shape == shape) return *this;
  if (Product(new_shape) == 0 || contiguous) return Contiguous(new_shape);
  Shape new_strides(new_shape.size(), 0);
  std::vector<Range> new_mask(new_shape.size());
  for (size_t i = 0; i < new_shape.size(); ++i) new_mask[i] = {0, new_shape[i]};
  for (const Group& g : MatchGroups(shape, new_shape)) {
    // Non-trivial old dims of the group (size > 1).
    std::vector<size_t> dims;
    for (size_t d = g.ob; d < g.oe; ++d)
      if (shape[d] != 1) dims.push_back(d);
    for (size_t k = 0; k + 1 < dims.size(); ++k)
      if (strides[dims[k]] != strides[dims[k + 1]] * shape[dims[k + 1]]) return std::nullopt;
    // Masks: only the outermost non-trivial old dim may be masked, and only where the
    // bounds stay expressible on the outermost new dim.
    Range outer{0, dims.empty() ? 1 : shape[dims[0]]};
    int64_t inner_old = 1;
    for (size_t k = 1; k < dims.size(); ++k) inner_old *= shape[dims[k]];
    if (mask) {
      for (size_t d = g.ob; d < g.oe; ++d) {
        Range r = (*mask)[d];
        bool full = r.first == 0 && r.second == shape[d];
        if (!dims.empty() && d == dims[0]) outer = r;
        else if (!full) return std::nullopt;
      }
    }
    int64_t stride = dims.empty() ? 0 : strides[dims.back()];
    size_t first_new = g.ne;  // outermost new dim of size > 1
    for (size_t n = g.ne; n-- > g.nb;) {
      new_strides[n] = new_shape[n] == 1 ? 0 : stride;
      stride *= new_shape[n];
      if (new_shape[n] != 1) first_new = n;
    }
    if (outer.first != 0 || outer.second != (dims.empty() ? 1 : shape[dims[0]])) {
      int64_t lo = outer.first * inner_old, hi = outer.second * inner_old;
      int64_t inner_new = 1;
      for (size_t n = first_new + 1; n < g.ne; ++n) inner_new *= new_shape[n];
      if (first_new == g.ne || lo % inner_new || hi % inner_new) return std::nullopt;
      new_mask[first_new] = {lo / inner_new, hi / inner_new};
    }
  }
  return Make(new_shape, new_strides, offset, mask ? std::optional(new_mask) : std::nullopt);
}

std::pair<sym::ExprRef, sym::ExprRef> View::IndexExpr(const std::vector<sym::ExprRef>& idxs) const {
  sym::ExprRef index = sym::Const(offset);
  sym::ExprRef valid = sym::Const(1);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (strides[i] != 0) index = sym::Add(index, sym::Mul(idxs[i], strides[i]));
    if (mask) {
      auto [lo, hi] = (*mask)[i];
      if (lo == hi) return {sym::Const(0), sym::Const(0)};
      valid = sym::And(valid, sym::And(sym::Ge(idxs[i], lo), sym::Lt(idxs[i], hi)));
    }
  }
  return {index, valid};
}

std::string View::ToString() const {
  std::string s = "View(shape=" + ShapeToString(shape) + ", strides=" + ShapeToString(strides) +
                  ", offset=" + std::to_string(offset);
  if (mask) {
    s += ", mask=(";
    for (auto& [lo, hi] : *mask) s += "(" + std::to_string(lo) + "," + std::to_string(hi) + ")";
    s += ")";
  }
  return s + ")";
}

}  // namespace petabox
