// MultiTensor: one logical tensor that lives on a list of devices, either replicated (every
// device holds the whole value) or sharded along one axis (device i holds the i-th block of
// consecutive rows of that axis; blocks may differ in size, and may be empty).
//
// Operations map onto the per-device tensors (shards), which are ordinary lazy Tensors, so
// nothing is computed until Realize. Elementwise ops broadcast as Tensor's do and take the
// layout of their first sharded operand; the other operands are cut to match (a replicated
// operand is sliced on each device, no copy) or resharded (copies) when their layout
// differs. A reduction over the sharded axis reduces each shard and then all-reduces the
// partial results (engine/multi_allreduce.h): the result is replicated. Movement ops keep the
// sharding where they can express it (a reshape that keeps the sharded rows in blocks, a
// permute, pads and shrinks, which give uneven blocks) and reshard otherwise (a flip of the
// sharded axis, a reshape that splits a block).
//
// Errors do not throw: as with Tensor, a failed operation returns a MultiTensor carrying the
// Status, which later operations propagate. Realize all shards together so the devices work
// concurrently. A cheap handle; copies share the shards.
//
// The multi-device engine: engine/multi.h (this), engine/multi_allreduce.h (all-reduce),
// engine/multi_exec.h (running several devices at once); data-parallel training is
// engine/nn/data_parallel.h.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/multi_allreduce.h"
#include "engine/tensor.h"

namespace petabox {

class MultiTensor {
 public:
  static constexpr int kReplicated = -1;

  // An error ("uninitialized multi-tensor").
  MultiTensor();
  // Copies of t on every device of `devices` (distinct; t itself where it already lives).
  static MultiTensor Replicate(const Tensor& t, const std::vector<std::string>& devices);
  // t cut along `axis` into one block per device, in device order; block sizes differ by
  // at most one row, the first ones being larger. InvalidArgument for a bad axis or devices.
  static MultiTensor Shard(const Tensor& t, const std::vector<std::string>& devices, int axis);
  // From tensors already on their devices: with axis kReplicated each is the whole value
  // (equal shapes); otherwise they are consecutive blocks along `axis` (equal shapes
  // elsewhere). InvalidArgument when shapes, dtypes or devices do not fit.
  static MultiTensor FromShards(std::vector<Tensor> shards, int axis);
  static MultiTensor Error(Status status);

  // ---- properties
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const Shape& shape() const { return shape_; }  // the logical shape
  DType dtype() const;
  int ndim() const { return static_cast<int>(shape_.size()); }
  int axis() const { return axis_; }  // the sharded axis, or kReplicated
  bool replicated() const { return axis_ == kReplicated; }
  const std::vector<Tensor>& shards() const { return shards_; }
  std::vector<std::string> devices() const;
  // The rows [begin, end) of the sharded axis each shard holds (replicated: the whole axis
  // 0, or {0, 1} for a scalar).
  std::vector<Range> bounds() const;

  // ---- elementwise (broadcasting; see the class comment for layouts)
  MultiTensor Add(const MultiTensor& o) const;
  MultiTensor Sub(const MultiTensor& o) const;
  MultiTensor Mul(const MultiTensor& o) const;
  MultiTensor Div(const MultiTensor& o) const;
  MultiTensor Maximum(const MultiTensor& o) const;
  MultiTensor Lt(const MultiTensor& o) const;
  MultiTensor Eq(const MultiTensor& o) const;
  MultiTensor Add(double v) const;
  MultiTensor Mul(double v) const;
  // fn applied to every shard: for elementwise functions of one tensor, which keep its shape
  // (e.g. [](const Tensor& t) { return t.Exp(); }).
  MultiTensor Map(const std::function<Tensor(const Tensor&)>& fn) const;
  MultiTensor Neg() const;
  MultiTensor Exp() const;
  MultiTensor Log() const;
  MultiTensor Sqrt() const;
  MultiTensor Relu() const;
  MultiTensor Cast(DType dtype) const;
  static MultiTensor Where(const MultiTensor& cond, const MultiTensor& a, const MultiTensor& b);

  // ---- reductions (empty axes = all; over the sharded axis: an all-reduce, replicated result)
  MultiTensor Sum(const std::vector<int>& axes = {}, bool keepdim = false) const;
  MultiTensor Max(const std::vector<int>& axes = {}, bool keepdim = false) const;
  MultiTensor Mean(const std::vector<int>& axes = {}, bool keepdim = false) const;

  // ---- movement (Tensor's semantics)
  MultiTensor Reshape(const Shape& shape) const;
  MultiTensor Permute(const std::vector<int>& order) const;
  MultiTensor Transpose(int a = -2, int b = -1) const;
  MultiTensor Expand(const Shape& shape) const;
  MultiTensor Pad(const std::vector<Range>& pads, double value = 0) const;
  MultiTensor Shrink(const std::vector<Range>& ranges) const;
  MultiTensor Flip(const std::vector<int>& axes) const;

  // (..., n, k) @ (..., k, m), both with at least 2 dims. A shard of rows (or of a batch
  // axis) times a replicated matrix stays sharded; sharded inner dimensions give partial
  // products that are all-reduced.
  MultiTensor Matmul(const MultiTensor& o) const;

  // ---- layout
  // The same value sharded along `axis` in even blocks (Shard's), or replicated
  // (kReplicated). Replicated -> sharded slices locally; anything else gathers (copies).
  MultiTensor Reshard(int axis) const;
  // The whole value on one device (a shard there if replicated; else the blocks copied there
  // and concatenated).
  Tensor To(const std::string& device) const;

  // ---- realization
  // Realizes every shard in one schedule (the devices run concurrently).
  Status Realize();
  // The logical value, read back to the host.
  StatusOr<std::vector<float>> ToFloats() const;

 private:
  MultiTensor(std::vector<Tensor> shards, int axis, Shape shape)
      : shards_(std::move(shards)), axis_(axis), shape_(std::move(shape)) {}
  // The per-device pieces of `this` lined up with `layout` (a multi-tensor of rank ndim()
  // on the same devices), resharding when the layouts differ.
  StatusOr<std::vector<Tensor>> AlignedTo(const MultiTensor& layout) const;
  // Lifts to `ndim` dims by prepending size-1 dims.
  MultiTensor WithRank(int ndim) const;
  MultiTensor Binary(const MultiTensor& o, Tensor (Tensor::*op)(const Tensor&) const) const;
  MultiTensor Reduce(bool max, const std::vector<int>& axes, bool keepdim) const;

  Status status_;
  std::vector<Tensor> shards_;
  int axis_ = kReplicated;
  Shape shape_;

  friend MultiTensor Elementwise(const std::vector<MultiTensor>& operands,
                                 const std::function<Tensor(const std::vector<Tensor>&)>& fn);
};

// fn applied device by device to the operands lined up with the first sharded one (or all
// replicated): the general form of MultiTensor's elementwise ops. The operands must be on the
// same devices in the same order.
MultiTensor Elementwise(const std::vector<MultiTensor>& operands,
                        const std::function<Tensor(const std::vector<Tensor>&)>& fn);

}  // namespace petabox
