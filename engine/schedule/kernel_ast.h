// The kernel AST: what one kernel computes, independent of how it is laid out in loops.
// Every LOAD/CONST carries a ShapeTracker over the kernel's full shape; the single REDUCE
// (if any) reduces the axes marked in `reduce_axes`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/ops.h"
#include "engine/shape/shape_tracker.h"

namespace petabox {

struct KNode;
using KRef = std::shared_ptr<const KNode>;

enum class KKind : uint8_t { kLoad, kConst, kAlu, kReduce };

struct KNode {
  KKind kind;
  Op op = Op::kAdd;     // kAlu: the elementwise op (kCast/kBitcast convert to dtype); kReduce: SUM/MAX
  DType dtype;
  int buf = -1;         // kLoad: kernel buffer index (0 is the output)
  ShapeTracker st;      // kLoad/kConst: view over the kernel's full shape
  double value = 0;     // kConst
  std::vector<KRef> srcs;
};

struct KernelAst {
  Shape full_shape;
  std::vector<bool> reduce_axes;  // per full_shape dim
  KRef root;                      // value stored to buffer 0
  ShapeTracker out_st;            // over full_shape; stride 0 on reduce axes
  std::vector<DType> buf_dtypes;  // [output, inputs...]
  std::string device;

  bool HasReduce() const { return root && ContainsReduce(root); }
  // The first REDUCE in `k` (depth first), or null.
  static const KNode* FindReduce(const KRef& k) {
    if (k->kind == KKind::kReduce) return k.get();
    for (const KRef& s : k->srcs)
      if (const KNode* r = FindReduce(s)) return r;
    return nullptr;
  }
  static bool ContainsReduce(const KRef& k) {
    if (k->kind == KKind::kReduce) return true;
    for (const KRef& s : k->srcs)
      if (ContainsReduce(s)) return true;
    return false;
  }
};

}  // namespace petabox
