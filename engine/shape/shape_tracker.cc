#include "engine/shape/shape_tracker.h"

namespace petabox {

ShapeTracker ShapeTracker::FromShape(const Shape& shape) { return ShapeTracker({View::Contiguous(shape)}); }

bool ShapeTracker::HasMask() const {
  for (const View& v : views_)
    if (v.HasMask()) return true;
  return false;
}

ShapeTracker ShapeTracker::WithTop(View top) const {
  std::vector<View> views = views_;
  views.back() = std::move(top);
  return ShapeTracker(std::move(views));
}

ShapeTracker ShapeTracker::Reshape(const Shape& new_shape) const {
  if (auto v = views_.back().Reshape(new_shape)) {
    // A contiguous view on top of others only renumbers: fold it into the one below.
    if (v->contiguous && views_.size() > 1 && Product(views_[views_.size() - 2].shape) == Product(new_shape)) {
      std::vector<View> below(views_.begin(), views_.end() - 1);
      if (auto merged = below.back().Reshape(new_shape)) {
        below.back() = *merged;
        return ShapeTracker(std::move(below));
      }
    }
    return WithTop(*v);
  }
  std::vector<View> views = views_;
  views.push_back(View::Contiguous(new_shape));
  return ShapeTracker(std::move(views));
}

ShapeTracker ShapeTracker::Permute(const std::vector<int>& order) const { return WithTop(views_.back().Permute(order)); }
ShapeTracker ShapeTracker::Expand(const Shape& s) const { return WithTop(views_.back().Expand(s)); }
ShapeTracker ShapeTracker::Pad(const std::vector<Range>& p) const { return WithTop(views_.back().Pad(p)); }
ShapeTracker ShapeTracker::Shrink(const std::vector<Range>& r) const { return WithTop(views_.back().Shrink(r)); }
ShapeTracker ShapeTracker::Flip(const std::vector<bool>& a) const { return WithTop(views_.back().Flip(a)); }

std::pair<sym::ExprRef, sym::ExprRef> ShapeTracker::IndexExpr(const std::vector<sym::ExprRef>& idxs) const {
  auto [index, valid] = views_.back().IndexExpr(idxs);
  for (size_t k = views_.size() - 1; k-- > 0;) {
    const View& v = views_[k];
    // Unflatten the index into v's shape (row-major numbering), then address through v.
    std::vector<sym::ExprRef> sub(v.shape.size());
    int64_t inner = 1;
    for (size_t d = v.shape.size(); d-- > 0;) {
      sym::ExprRef q = sym::Div(index, inner);
      sub[d] = d == 0 ? q : sym::Mod(q, v.shape[d]);
      inner *= v.shape[d];
    }
    auto [idx2, valid2] = v.IndexExpr(sub);
    index = idx2;
    valid = sym::And(valid, valid2);
  }
  return {index, valid};
}

std::string ShapeTracker::ToString() const {
  std::string s = "ShapeTracker(";
  for (size_t i = 0; i < views_.size(); ++i) s += (i ? ", " : "") + views_[i].ToString();
  return s + ")";
}

}  // namespace petabox
