#include "engine/codegen/kernel.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace petabox {

Kernel::Kernel(std::shared_ptr<const KernelAst> ast, DeviceProperties props)
    : ast_(std::move(ast)), props_(std::move(props)), shape_(ast_->full_shape), out_view_(ast_->out_st) {
  for (size_t i = 0; i < shape_.size(); ++i)
    kinds_.push_back(ast_->reduce_axes[i] ? AxisKind::kReduce : AxisKind::kGlobal);
  std::function<void(const KRef&)> visit = [&](const KRef& k) {
    if (k->kind == KKind::kLoad || k->kind == KKind::kConst) views_.emplace(k.get(), k->st);
    for (const KRef& s : k->srcs) visit(s);
  };
  visit(ast_->root);
}

const ShapeTracker& Kernel::ViewOf(const KNode* node) const {
  return node ? views_.at(node) : out_view_;
}

std::vector<const ShapeTracker*> Kernel::AllViews() const {
  std::vector<const ShapeTracker*> all{&out_view_};
  for (auto& [k, st] : views_) all.push_back(&st);
  return all;
}

void Kernel::Reshape(const Shape& shape, const std::vector<AxisKind>& kinds) {
  for (auto& [k, st] : views_) st = st.Reshape(shape);
  out_view_ = out_view_.Reshape(shape);
  shape_ = shape;
  kinds_ = kinds;
}

void Kernel::Permute(const std::vector<int>& order) {
  for (auto& [k, st] : views_) st = st.Permute(order);
  out_view_ = out_view_.Permute(order);
  Shape s;
  std::vector<AxisKind> kinds;
  for (int a : order) {
    s.push_back(shape_[a]);
    kinds.push_back(kinds_[a]);
  }
  shape_ = s;
  kinds_ = kinds;
}

bool Kernel::CanMerge(int axis) const {
  if (kinds_[axis] != kinds_[axis + 1]) return false;
  Shape merged = shape_;
  merged[axis] *= merged[axis + 1];
  merged.erase(merged.begin() + axis + 1);
  for (const ShapeTracker* st : AllViews())
    if (!st->views().back().Reshape(merged)) return false;
  return true;
}

void Kernel::SortAxes() {
  std::vector<int> order(shape_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return kinds_[a] < kinds_[b]; });
  if (!std::is_sorted(order.begin(), order.end())) Permute(order);
}

void Kernel::Normalize() {
  Shape s;
  std::vector<AxisKind> kinds;
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] == 1) continue;
    s.push_back(shape_[i]);
    kinds.push_back(kinds_[i]);
  }
  if (s != shape_) Reshape(s, kinds);
  SortAxes();
  for (int i = static_cast<int>(shape_.size()) - 2; i >= 0; --i) {
    if (!CanMerge(i)) continue;
    Shape merged = shape_;
    merged[i] *= merged[i + 1];
    merged.erase(merged.begin() + i + 1);
    std::vector<AxisKind> k = kinds_;
    k.erase(k.begin() + i + 1);
    Reshape(merged, k);
  }
}

int Kernel::Split(int axis, int64_t amount, AxisKind kind) {
  if (amount <= 1 || shape_[axis] % amount != 0) return -1;
  Shape s = shape_;
  std::vector<AxisKind> kinds = kinds_;
  s[axis] /= amount;
  s.insert(s.begin() + axis + 1, amount);
  kinds.insert(kinds.begin() + axis + 1, kind);
  Reshape(s, kinds);
  if (vector_axis_ > axis) ++vector_axis_;
  // Keep axis order (global, reduce, upcast, unroll); the vector axis stays the last upcast.
  std::vector<int> order(shape_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (kinds_[a] != kinds_[b]) return kinds_[a] < kinds_[b];
    return (a == vector_axis_) < (b == vector_axis_);
  });
  int new_vector = -1, new_axis = -1;
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] == vector_axis_) new_vector = static_cast<int>(i);
    if (order[i] == axis + 1) new_axis = static_cast<int>(i);
  }
  if (!std::is_sorted(order.begin(), order.end())) Permute(order);
  vector_axis_ = new_vector;
  return new_axis;
}

void Kernel::MoveAxis(int from, int to) {
  if (from == to) return;
  std::vector<int> order(shape_.size());
  std::iota(order.begin(), order.end(), 0);
  order.erase(order.begin() + from);
  order.insert(order.begin() + to, from);
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] == vector_axis_) {
      Permute(order);
      vector_axis_ = static_cast<int>(i);
      return;
    }
  Permute(order);
}

int64_t Kernel::UpcastSize() const {
  int64_t n = 1;
  for (size_t i = 0; i < shape_.size(); ++i)
    if (kinds_[i] == AxisKind::kUpcast || kinds_[i] == AxisKind::kUnroll) n *= shape_[i];
  return n;
}

std::optional<int64_t> Kernel::StrideOf(const KNode* node, int axis) const {
  const ShapeTracker& st = ViewOf(node);
  if (st.views().size() == 1) return st.views()[0].strides[axis];
  // Several views: read the stride off the simplified index expression, if it is linear.
  std::vector<sym::ExprRef> vars;
  for (size_t i = 0; i < shape_.size(); ++i) vars.push_back(sym::Var("a" + std::to_string(i), 0, shape_[i] - 1));
  return sym::LinearCoeff(st.IndexExpr(vars).first, "a" + std::to_string(axis));
}

std::string Kernel::Name() const {
  std::string name = ast_->HasReduce() ? "r" : "E";
  for (int64_t s : shape_) name += "_" + std::to_string(s);
  return name;
}

}  // namespace petabox
