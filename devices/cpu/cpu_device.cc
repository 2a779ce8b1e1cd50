#include "devices/cpu/cpu_device.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace petabox {
namespace {

struct DlCloser {
  void operator()(void* handle) const { ::dlclose(handle); }
};
using DlHandle = std::unique_ptr<void, DlCloser>;

std::string DlErrorText() {
  const char* error = ::dlerror();
  return error == nullptr ? "unknown error" : error;
}

// A kernel from a dlopen()ed shared object. Keeps the object loaded and the pool alive
// for as long as the program exists.
class CpuProgram : public Program {
 public:
  CpuProgram(DlHandle handle, CpuKernelFn fn, std::shared_ptr<ThreadPool> pool)
      : handle_(std::move(handle)), fn_(fn), pool_(std::move(pool)) {}

  // Runs fn over [0, dims.global[0]) split across the pool; returns wall seconds.
  StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) override {
    if (dims.global[0] < 0) {
      return InvalidArgument("negative CPU launch size " + std::to_string(dims.global[0]));
    }
    void* const* arg_data = args.data();
    const CpuKernelFn fn = fn_;
    const auto start = std::chrono::steady_clock::now();
    constexpr int64_t kInlineCost = 1 << 17;  // about 20-50 us of work
    if (dims.cost > 0 && dims.cost < kInlineCost) {
      fn(arg_data, 0, dims.global[0]);
    } else {
      pool_->ParallelFor(dims.global[0],
                         [arg_data, fn](int64_t begin, int64_t end) { fn(arg_data, begin, end); });
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  DlHandle handle_;
  CpuKernelFn fn_;
  std::shared_ptr<ThreadPool> pool_;
};

DeviceProperties MakeProperties(int index, int threads, int64_t memory_limit_bytes) {
  DeviceProperties properties;
  properties.name = "CPU:" + std::to_string(index);
  properties.kind = "CPU";
  properties.arch = "native";
  properties.dialect = "c";
  properties.memory_bytes = HostMemoryBytes();
  if (memory_limit_bytes > 0) {
    properties.memory_bytes = properties.memory_bytes > 0
                                  ? std::min(properties.memory_bytes, memory_limit_bytes)
                                  : memory_limit_bytes;
  }
  properties.vector_bytes = HostVectorBytes();
  properties.compute_units = threads;
  properties.capabilities.loops_over_chunks = true;
  properties.capabilities.packs_operands_for_simd = true;
  return properties;
}

}  // namespace

int HostVectorBytes() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx512f")) return 64;
  if (__builtin_cpu_supports("avx2")) return 32;
#endif
  return 16;
}

int64_t HostMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<int64_t>(pages) * page_size;
}

CpuDevice::CpuDevice(int index, std::shared_ptr<ThreadPool> pool,
                     std::shared_ptr<CpuCompiler> compiler, int64_t memory_limit_bytes)
    : properties_(MakeProperties(index, pool->num_threads(), memory_limit_bytes)),
      pool_(std::move(pool)),
      compiler_(std::move(compiler)),
      allocator_(properties_.name, memory_limit_bytes) {}

StatusOr<std::unique_ptr<Program>> CpuDevice::LoadProgram(const std::string& binary,
                                                          const std::string& function_name) {
  DlHandle handle(::dlopen(binary.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle == nullptr) {
    return InvalidArgument("cannot load CPU kernel '" + binary + "': " + DlErrorText());
  }
  ::dlerror();  // clear any stale error so a null symbol is told apart from a failure
  void* symbol = ::dlsym(handle.get(), function_name.c_str());
  if (symbol == nullptr) {
    return NotFound("kernel symbol '" + function_name + "' not found in '" + binary +
                    "': " + DlErrorText());
  }
  auto fn = reinterpret_cast<CpuKernelFn>(symbol);
  return std::unique_ptr<Program>(std::make_unique<CpuProgram>(std::move(handle), fn, pool_));
}

Status CpuDevice::CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) {
  if (src_device.properties().kind != "CPU") return Device::CopyFromDevice(dst, src_device, src, bytes);
  if (bytes > 0) std::memcpy(dst, src, bytes);
  return Status::Ok();
}

}  // namespace petabox
