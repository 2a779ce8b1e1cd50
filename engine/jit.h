// Jit: captures the kernels a step function runs and replays them with new input buffers,
// so per-step host work (building the graph, scheduling, lowering) no longer grows with the
// model: a replay is one launch per captured kernel.
//
// Call 1 runs the function normally (and compiles its kernels); call 2 runs it again while
// capturing every kernel with its buffers; later calls replay the capture with the inputs'
// buffers swapped in. The function must be a pure graph builder that realizes what it
// returns: host-side reads, data created on the host inside it (e.g. fresh random masks),
// and shapes that change between calls are not replayed. Outputs of a replay live in the
// captured buffers: the next Run overwrites them. Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "engine/multi_exec.h"
#include "engine/realize.h"
#include "engine/tensor.h"

namespace petabox {

class Jit {
 public:
  using Fn = std::function<StatusOr<std::vector<Tensor>>(const std::vector<Tensor>& inputs)>;

  explicit Jit(Fn fn) : fn_(std::move(fn)) {}

  // Runs (or replays) the function. InvalidArgument when an input's shape, dtype or device
  // differs from the captured call's.
  StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs);
  bool captured() const { return calls_ >= 2; }
  // Kernels and copies in the capture.
  size_t captured_ops() const { return ops_.size(); }

 private:
  struct Slot { size_t op, buffer; };  // where an input's buffer appears in the capture
  struct Output { std::shared_ptr<Buffer> buffer; Shape shape; std::string device; };

  StatusOr<std::vector<Tensor>> Capture(const std::vector<Tensor>& inputs);
  StatusOr<std::vector<Tensor>> ReplayAll(const std::vector<Tensor>& inputs);
  Status CheckInputs(const std::vector<Tensor>& inputs) const;

  Fn fn_;
  int calls_ = 0;
  std::vector<CapturedOp> ops_;
  ExecutionPlan plan_;  // how ops_ run across devices (computed once, at capture)
  std::vector<std::vector<Slot>> input_slots_;
  std::vector<Tensor> input_specs_;  // the captured call's inputs (shape, dtype, device)
  std::vector<Output> outputs_;
};

}  // namespace petabox
