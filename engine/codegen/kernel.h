// Kernel: a KernelAst plus its loop layout. Optimizations (opt/) reshape and permute the
// layout; every view in the kernel moves with it, so the AST itself never changes.
//
// Axis order is always: global loops, group axes (a reduce split over the threads of one
// GPU block, combined through shared memory), reduce loops, upcast axes (non-reduce,
// expanded in code), unroll axes (reduce, expanded in code). The last upcast axis may be
// vectorized.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.h"
#include "engine/schedule/kernel_ast.h"

namespace petabox {

enum class AxisKind : uint8_t { kGlobal, kGroup, kReduce, kUpcast, kUnroll };

class Kernel {
 public:
  Kernel(std::shared_ptr<const KernelAst> ast, DeviceProperties props);

  const KernelAst& ast() const { return *ast_; }
  const DeviceProperties& props() const { return props_; }
  const Shape& shape() const { return shape_; }
  const std::vector<AxisKind>& kinds() const { return kinds_; }
  int vector_axis() const { return vector_axis_; }  // -1 when scalar
  // View of a LOAD/CONST node, or of the output when node is null.
  const ShapeTracker& ViewOf(const KNode* node) const;
  std::vector<const ShapeTracker*> AllViews() const;

  // Drops size-1 axes, puts reduce axes last, merges axes that every view can merge.
  void Normalize();
  // Splits axis `axis` into (size/amount, amount); the inner part becomes `kind`. Returns
  // the new axis's index after re-sorting, or -1 when amount does not divide the axis.
  int Split(int axis, int64_t amount, AxisKind kind);
  void SetVectorAxis(int axis) { vector_axis_ = axis; }
  // Moves axis `from` to position `to` (both of the same kind), shifting those between.
  void MoveAxis(int from, int to);
  int64_t UpcastSize() const;  // product of upcast+unroll axis sizes
  // Stride of `axis` in the view of `node` (nullopt when not a single linear stride).
  std::optional<int64_t> StrideOf(const KNode* node, int axis) const;

  std::string Name() const;

 private:
  void Reshape(const Shape& shape, const std::vector<AxisKind>& kinds);
  void Permute(const std::vector<int>& order);
  bool CanMerge(int axis) const;  // merge axis with axis+1 in one view everywhere
  void SortAxes();

  std::shared_ptr<const KernelAst> ast_;
  DeviceProperties props_;
  Shape shape_;
  std::vector<AxisKind> kinds_;
  std::map<const KNode*, ShapeTracker> views_;  // loads and consts
  ShapeTracker out_view_;
  int vector_axis_ = -1;
};

}  // namespace petabox
