// Concurrent execution of device operations: how Realize and the JIT replay run work that
// spans several devices, so that the devices compute at the same time and copies overlap
// kernels. Part of the multi-device engine (engine/multi*.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/realize.h"

namespace petabox {

// The lane an op runs on: "<device>" for kernels, "<device> copy" for copies into <device>.
std::string LaneOf(const CapturedOp& op);

// For each op of `ops`, the earlier ops it must wait for: those that write a buffer it reads
// or writes, or read a buffer it writes (read after write, write after write, write after
// read). `buffers` (one list per op, as CapturedOp::buffers: the written buffer first) gives
// the buffers each op uses. Exposed for tests.
std::vector<std::vector<size_t>> OpDependencies(const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers);

// How ExecuteOps runs a list of ops: the ops of each lane in list order, and each op's
// dependencies (OpDependencies). Depends only on which ops share buffers, so a JIT computes
// it once for its capture and replays with other input buffers under the same plan.
struct ExecutionPlan {
  std::vector<std::vector<size_t>> lanes;
  std::vector<std::vector<size_t>> deps;
};
ExecutionPlan PlanOps(const std::vector<CapturedOp>& ops,
                      const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers);

// Runs `ops` (kernels and copies, listed in an order in which running them one by one is
// correct), op i with buffers (*buffers)[i], or with ops[i].buffers when `buffers` is null;
// under `plan` when given (PlanOps of the same ops, over buffers that alias in the same way).
//
// Every lane (LaneOf) is served by a host thread of its own, so devices work at the same
// time and a copy into a device overlaps a kernel on it. An op starts once the ops it depends
// on (OpDependencies) have finished; among the ops of a lane that may start, the earliest in
// the list runs first, so the list's order need not be a good schedule (a ring all-reduce
// built chunk by chunk still pipelines). When all ops share one lane they run in list order
// on the calling thread.
//
// Returns the first error; ops not started by then are skipped, and the call returns once
// every started op has finished. Thread-compatible: one call at a time per set of buffers.
Status ExecuteOps(const std::vector<CapturedOp>& ops,
                  const std::vector<std::vector<std::shared_ptr<Buffer>>>* buffers = nullptr,
                  const ExecutionPlan* plan = nullptr);

}  // namespace petabox
