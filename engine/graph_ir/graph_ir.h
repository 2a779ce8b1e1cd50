// The training-graph IR in memory: the lazy graph of primitive ops (engine/ops.h) with a
// symbolic batch size, plus the named inputs, parameters, state, constant tensors and
// outputs that make it a complete, portable description of a model and its loss. It is
// the protobuf-free twin of proto/petabox/v1/graph.proto (daemon/graph converts between the
// two, field by field); the proto file documents the semantics.
//
// Sizes that grow with the batch are Dims (fixed + per_sample * N, N the per-device batch
// size); scalar constants that depend on it (1/N of a mean, n/(n-1) of an unbiased
// variance) are BatchScalars. So one graph runs at any per-device batch size: Resolve
// (engine/graph_ir/resolve.h) evaluates it for one N and checks every node.
//
// Plain value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/ops.h"

namespace petabox::graph {

// The IR version this code reads and writes.
constexpr uint32_t kGraphVersion = 1;

// The names the worker binds: the dataset's examples feed "input", its class indices
// "label"; it trains "loss" and evaluates "logits" (and "train_logits" when present).
inline constexpr char kInputName[] = "input";
inline constexpr char kLabelName[] = "label";
inline constexpr char kLossOutput[] = "loss";
inline constexpr char kLogitsOutput[] = "logits";
inline constexpr char kTrainLogitsOutput[] = "train_logits";

// A size: fixed + per_sample * N.
struct Dim {
  int64_t fixed = 0;
  int64_t per_sample = 0;
  int64_t At(int64_t n) const { return fixed + per_sample * n; }
  bool operator==(const Dim& o) const { return fixed == o.fixed && per_sample == o.per_sample; }
};
using DimShape = std::vector<Dim>;

// [begin, end) of SHRINK, or (before, after) of PAD.
struct DimRange {
  Dim begin;
  Dim end;
};

// A scalar: (num_fixed + num_per_sample * N) / (den_fixed + den_per_sample * N); a plain
// constant c is {c, 0, 1, 0}.
struct BatchScalar {
  double num_fixed = 0;
  double num_per_sample = 0;
  double den_fixed = 1;
  double den_per_sample = 0;
  double At(int64_t n) const;
  bool IsFixed() const { return num_per_sample == 0 && den_per_sample == 0 && den_fixed == 1; }
};

// What a leaf node stands for.
enum class LeafKind : uint8_t { kNone, kInput, kParameter, kState, kConstant };

// One node: an engine primitive, or a leaf (op kBuffer with leaf != kNone). Sources are
// indices of earlier nodes (the list is topologically ordered).
struct IrNode {
  Op op = Op::kConst;
  LeafKind leaf = LeafKind::kNone;
  uint32_t leaf_index = 0;  // index into inputs/parameters/state/constants
  DType dtype = DType::kFloat32;
  DimShape shape;
  std::vector<uint32_t> srcs;
  std::vector<int> axes;          // PERMUTE order; SUM/MAX_REDUCE/FLIP axes
  std::vector<DimRange> ranges;   // PAD, SHRINK
  BatchScalar value;              // CONST
};

// A batch input: shape (N, *sample_shape).
struct IrInput {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> sample_shape;
};

// How a tensor without explicit values is initialised (from the job's seed).
struct Initializer {
  enum class Kind : uint8_t { kNone, kConstant, kUniform, kNormal };
  Kind kind = Kind::kNone;
  double a = 0;  // constant value; uniform low; normal mean
  double b = 0;  // uniform high; normal stddev
};

// A trainable parameter, a state tensor (saved, not trained: e.g. BatchNorm running
// statistics) or a constant tensor. `data` holds the values (little-endian, row-major,
// dtype's size each) or is empty and `init` says how to make them.
struct IrTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::string data;
  Initializer init;
  // State only: the node holding its value after a training step, or -1 when it is not
  // updated.
  int64_t update = -1;
};

struct IrOutput {
  std::string name;
  uint32_t node = 0;
};

struct GraphIr {
  uint32_t version = kGraphVersion;
  std::string producer;
  std::vector<IrInput> inputs;
  std::vector<IrTensor> parameters;
  std::vector<IrTensor> state;
  std::vector<IrTensor> constants;
  std::vector<IrNode> nodes;
  std::vector<IrOutput> outputs;

  // The index of the output / input called `name`, or -1.
  int FindOutput(const std::string& name) const;
  int FindInput(const std::string& name) const;
};

// Human-readable summary of a node for error messages: "node 12 (RESHAPE)".
std::string NodeLabel(const GraphIr& g, size_t index);

}  // namespace petabox::graph
