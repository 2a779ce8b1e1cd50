// TRACE:0, the tracing device: a CPU device under another name whose capabilities make the
// graphs built on it device-neutral (no packed-operand copies such as im2col, no split
// reductions; devices/device.h DeviceCapabilities), so models are built and exported there
// (engine/graph_ir/capture.h) on any machine, with no GPU. It runs kernels exactly as the
// CPU does (parameter initialisation may compute), in host memory.
#pragma once

#include <memory>

#include "devices/cpu/cpu_device.h"

namespace petabox {

class TraceDevice : public CpuDevice {
 public:
  static constexpr char kName[] = "TRACE:0";
  TraceDevice(std::shared_ptr<ThreadPool> pool, std::shared_ptr<CpuCompiler> compiler);
  const DeviceProperties& properties() const override { return properties_; }

 private:
  DeviceProperties properties_;
};

}  // namespace petabox
