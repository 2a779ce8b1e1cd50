#include "engine/schedule/concat.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace petabox {
namespace {

// Where PAD node `pad` puts its source in the row-major layout of its own shape: the first
// element and the count, when that is one contiguous range; nullopt otherwise. The source
// is a box [before_i, before_i + size_i) per axis; it is contiguous when, below the last
// axis it does not fill, every axis holds a single index.
std::optional<std::pair<int64_t, int64_t>> PaddedRange(const Node* pad) {
  const Shape& out = pad->shape;
  const Shape& in = pad->srcs[0]->shape;
  const std::vector<Range>& pads = pad->Arg<std::vector<Range>>();
  int last_partial = -1;
  for (size_t i = 0; i < out.size(); ++i)
    if (in[i] != out[i]) last_partial = static_cast<int>(i);
  for (int i = 0; i < last_partial; ++i)
    if (in[i] != 1) return std::nullopt;
  int64_t offset = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    if (pads[i].first < 0 || pads[i].second < 0) return std::nullopt;  // a negative pad crops
    offset += pads[i].first * stride;
    stride *= out[i];
  }
  return std::make_pair(offset, Product(in));
}

bool Collect(const Node* n, const std::function<bool(const Node*)>& inner, bool top, std::vector<const Node*>* pads) {
  if (n->op == Op::kPad) {
    pads->push_back(n);
    return true;
  }
  if (n->op != Op::kAdd || (!top && !inner(n))) return false;
  return Collect(n->srcs[0].get(), inner, false, pads) && Collect(n->srcs[1].get(), inner, false, pads);
}

}  // namespace

std::vector<ConcatPart> ConcatParts(const Node* n, const std::function<bool(const Node*)>& inner) {
  std::vector<const Node*> pads;
  if (n->op != Op::kAdd || !Collect(n, inner, true, &pads) || pads.size() < 2) return {};
  std::vector<ConcatPart> parts;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const Node* pad : pads) {
    auto range = PaddedRange(pad);
    if (!range || pad->shape != n->shape) return {};
    parts.push_back({pad->srcs[0].get(), range->first});
    ranges.push_back({range->first, range->first + range->second});
  }
  std::sort(ranges.begin(), ranges.end());
  int64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered) return {};  // a gap (zeros to write) or an overlap (a real sum)
    covered = end;
  }
  if (covered != n->numel()) return {};
  return parts;
}

}  // namespace petabox
