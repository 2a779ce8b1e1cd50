// The CPU backend: host memory, C kernels compiled by CpuCompiler, run on a ThreadPool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "devices/cpu/cpu_allocator.h"
#include "devices/cpu/cpu_compiler.h"
#include "devices/cpu/thread_pool.h"
#include "devices/device.h"

namespace petabox {

// The CPU kernel ABI. A kernel receives its buffers in parameter order and processes the
// index range [begin, end) of its global size; Launch calls it once per thread chunk.
using CpuKernelFn = void (*)(void* const* args, int64_t begin, int64_t end);

// The preferred SIMD width of the host in bytes: 64 with AVX-512F, 32 with AVX2, else 16.
int HostVectorBytes();

// Physical memory of the host in bytes (0 if unknown).
int64_t HostMemoryBytes();

// One virtual CPU device ("CPU:<index>"). Several instances may share one ThreadPool and
// one CpuCompiler; each has its own allocator. Thread-safe, except that Programs it loads
// follow the Program contract (Launch from one thread at a time per device).
class CpuDevice : public Device {
 public:
  // `memory_limit_bytes` caps this device's allocator (0 = unlimited) and, when set, is
  // reported as its memory_bytes.
  CpuDevice(int index, std::shared_ptr<ThreadPool> pool, std::shared_ptr<CpuCompiler> compiler,
            int64_t memory_limit_bytes = 0);

  const DeviceProperties& properties() const override { return properties_; }
  Allocator& allocator() override { return allocator_; }
  Compiler& compiler() override { return *compiler_; }
  // dlopens the shared object at `binary` and resolves `function_name`, a CpuKernelFn.
  // InvalidArgument naming the path and dlerror() if it cannot be loaded; NotFound naming
  // the symbol if it is missing.
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary,
                                                 const std::string& function_name) override;
  // Launch is synchronous, so there is never queued work.
  Status Synchronize() override { return Status::Ok(); }
  // From another CPU device: memcpy (all CPU devices share host memory). Unimplemented for
  // other kinds (their backends copy to the host themselves).
  Status CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) override;
  // True for every CPU device (one host memory).
  bool CanAccessPeer(Device& other) override { return other.properties().kind == "CPU"; }

 private:
  const DeviceProperties properties_;
  const std::shared_ptr<ThreadPool> pool_;
  const std::shared_ptr<CpuCompiler> compiler_;
  CpuAllocator allocator_;
};

}  // namespace petabox
