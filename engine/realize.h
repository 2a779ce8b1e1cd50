// Realization: schedule -> per kernel: optimize, linearize, render, compile (cached),
// launch. The only place where lazy graphs turn into computed buffers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/schedule/schedule.h"

namespace petabox {

// Computes every root (see CreateSchedule); afterwards each root's realized() is set.
// Errors (out of memory, compile failure, unknown device) leave the roots unrealized.
// Every kernel is compiled and every buffer allocated before the first op runs; the ops then
// run through ExecuteOps (engine/multi_exec.h): in order on this thread when one device is
// involved, concurrently across devices otherwise.
Status Realize(const std::vector<NodeRef>& roots);

// Kernel source for one scheduled kernel on its device (for tests and debugging).
StatusOr<std::string> KernelSource(const KernelAst& ast);

// One device operation as Realize ran it, with the buffers it used: what the JIT replays.
struct CapturedOp {
  enum class Kind { kKernel, kCopy };
  Kind kind = Kind::kKernel;
  Program* program = nullptr;  // kKernel; owned by the process-wide program cache
  LaunchDims dims;
  std::vector<std::shared_ptr<Buffer>> buffers;  // kernel: [output, inputs...]; copy: [dst, src]
  int64_t src_offset = 0;  // kCopy: byte offsets into src and dst; `bytes` bytes are copied
  int64_t dst_offset = 0;
  std::string name, device;  // device: the kernel's, or the copy's destination
  int64_t flops = 0, bytes = 0;
};

// While alive, every kernel and copy that Realize runs on this thread is appended to `log`.
class CaptureScope {
 public:
  explicit CaptureScope(std::vector<CapturedOp>* log);
  ~CaptureScope();
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;

 private:
  std::vector<CapturedOp>* previous_;
};

// Runs one captured op again with `buffers` in place of the captured ones, and waits for it.
// A copy goes device to device where the destination's backend can (Device::CopyFromDevice),
// through host memory otherwise.
Status Replay(const CapturedOp& op, const std::vector<std::shared_ptr<Buffer>>& buffers);

}  // namespace petabox
