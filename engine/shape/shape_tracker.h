// ShapeTracker: a stack of Views. views.back() is the visible shape; each view's flat index
// is read through the view below it, and views.front() addresses the buffer. Movement ops
// rewrite the top view; a reshape the top view cannot express pushes a new view.
#pragma once

#include <string>
#include <vector>

#include "engine/shape/view.h"

namespace petabox {

class ShapeTracker {
 public:
  ShapeTracker() = default;
  static ShapeTracker FromShape(const Shape& shape);

  const Shape& shape() const { return views_.back().shape; }
  const std::vector<View>& views() const { return views_; }
  // One unmasked view with contiguous strides and no offset.
  bool IsContiguous() const { return views_.size() == 1 && views_[0].contiguous; }
  bool HasMask() const;

  ShapeTracker Reshape(const Shape& new_shape) const;
  ShapeTracker Permute(const std::vector<int>& order) const;
  ShapeTracker Expand(const Shape& new_shape) const;
  ShapeTracker Pad(const std::vector<Range>& pads) const;
  ShapeTracker Shrink(const std::vector<Range>& ranges) const;
  ShapeTracker Flip(const std::vector<bool>& axes) const;

  // Buffer index and validity (0/1) for one index expression per visible dim.
  std::pair<sym::ExprRef, sym::ExprRef> IndexExpr(const std::vector<sym::ExprRef>& idxs) const;

  bool operator==(const ShapeTracker& o) const { return views_ == o.views_; }
  std::string ToString() const;

 private:
  explicit ShapeTracker(std::vector<View> views) : views_(std::move(views)) {}
  ShapeTracker WithTop(View top) const;

  std::vector<View> views_;
};

}  // namespace petabox
