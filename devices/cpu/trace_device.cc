#include "devices/cpu/trace_device.h"

namespace petabox {

TraceDevice::TraceDevice(std::shared_ptr<ThreadPool> pool, std::shared_ptr<CpuCompiler> compiler)
    : CpuDevice(0, std::move(pool), std::move(compiler)), properties_(CpuDevice::properties()) {
  properties_.name = kName;  // kind stays "CPU": copies treat it as the host
  // Graphs built here are device-neutral: no host-only layout copies, no reductions split
  // by a count that does not scale with the batch. Kernels still run as on the CPU.
  properties_.capabilities.packs_operands_for_simd = false;
  properties_.capabilities.splits_big_reductions = false;
}

}  // namespace petabox
