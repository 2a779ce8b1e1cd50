// Linear low-level ops: what the linearizer emits and the renderer prints, in program order.
// Values are referred to by their position in the list.
#pragma once

#include <string>
#include <vector>

#include "devices/device.h"
#include "engine/dtype.h"
#include "engine/ops.h"

namespace petabox {

enum class UOpKind : uint8_t {
  kLoopBegin,   // var, begin, end; parallel: the device's global index range
  kLoopEnd,     // parallel: closes the parallel range
  kDefine,      // var = index (an index expression of other variables)
  kConst,       // value
  kIndex,       // an integer/bool index expression (text), e.g. a pad's validity
  kLoad,        // buf, index, valid ("" = always valid); vcount > 1: contiguous vector load
  kStore,       // buf, index, srcs[0]
  kAlu,         // op over srcs; vcount > 1 operates on vectors (scalars broadcast)
  kAccDefine,   // accumulator initialised to value
  kAccUpdate,   // srcs[0] (accumulator) = op(srcs[0], srcs[1])
  kGather,      // builds a vector from scalar srcs
  kLane,        // lane `lane` of vector srcs[0]
  kShared,      // var: a block-shared array of `end` elements of dtype
  kSharedStore, // var[index] = srcs[0]
  kSharedLoad,  // var[index]
  kBarrier,     // all threads of the block reach this point
  kIf,          // opens `if (index) {`; closed by a kLoopEnd
};

struct UOp {
  UOpKind kind;
  DType dtype = DType::kFloat32;
  int vcount = 1;
  Op op = Op::kAdd;
  std::vector<int> srcs;
  int buf = -1;
  std::string index, valid, var;
  int64_t begin = 0, end = 0;
  bool parallel = false;
  double value = 0;
  int lane = 0;
};

struct LinearKernel {
  std::string name;
  std::vector<UOp> uops;
  std::vector<DType> buf_dtypes;  // [output, inputs...]
  LaunchDims dims;
  int64_t flops = 0;  // operations counted statically from the uops and their loop trips
  int64_t bytes = 0;  // bytes of every buffer the kernel touches (each counted once)
};

}  // namespace petabox
