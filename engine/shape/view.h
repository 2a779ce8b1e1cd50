// View: how a shape maps onto a flat buffer: {shape, strides, offset, mask}.
// Immutable value type; every movement op returns a new View (zero-copy). Pads are masks:
// positions outside the mask read as zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/shape/symbolic.h"

namespace petabox {

using Shape = std::vector<int64_t>;
using Range = std::pair<int64_t, int64_t>;  // [begin, end)

int64_t Product(const Shape& shape);
Shape ContiguousStrides(const Shape& shape);  // size-1 dims get stride 0
std::string ShapeToString(const Shape& shape);

struct View {
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  std::optional<std::vector<Range>> mask;  // valid region per dim; nullopt = all valid
  bool contiguous = false;

  static View Contiguous(const Shape& shape);
  // Builds a canonical view (size-1 strides zeroed, full masks dropped).
  static View Make(Shape shape, Shape strides, int64_t offset, std::optional<std::vector<Range>> mask);

  // Movement ops. Arguments must already be validated against `shape` (the frontend does).
  View Permute(const std::vector<int>& order) const;
  View Expand(const Shape& new_shape) const;       // only size-1 dims grow
  View Pad(const std::vector<Range>& pads) const;   // (before, after) per dim
  View Shrink(const std::vector<Range>& ranges) const;
  View Flip(const std::vector<bool>& axes) const;
  // nullopt when one view cannot express the reshape (the ShapeTracker then stacks a view).
  std::optional<View> Reshape(const Shape& new_shape) const;

  // Buffer index and validity for per-dim index expressions.
  std::pair<sym::ExprRef, sym::ExprRef> IndexExpr(const std::vector<sym::ExprRef>& idxs) const;
  // True when some position is masked out.
  bool HasMask() const { return mask.has_value(); }

  bool operator==(const View& o) const {
    return shape == o.shape && strides == o.strides && offset == o.offset && mask == o.mask;
  }
  std::string ToString() const;
};

}  // namespace petabox
