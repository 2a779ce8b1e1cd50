#include "devices/cpu/trace_device.h"

namespace petabox {

TraceDevice::TraceDevice(std::shared_ptr<ThreadPool> pool, std::shared_ptr<CpuCompiler> compiler)
    : CpuDevice(0, std::move(pool), std::move(compiler)), properties_(CpuDevice::properties()) {
  properties_.name = kName;  // kind stays "CPU": codegen and copies treat it as the host
}

}  // namespace petabox
