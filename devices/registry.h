// The table of devices that exist at run time, looked up by name ("CPU:0", "CUDA:1", "HIP:0").
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>  // std::once_flag
#include <string>
#include <string_view>
#include <vector>

#include "devices/cpu/cpu_compiler.h"
#include "devices/cpu/cpu_device.h"
#include "devices/cpu/thread_pool.h"
#include "devices/cpu/trace_device.h"
#include "devices/device.h"
#include "devices/gpu/gpu_device.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

// A GPU vendor the registry looks for: the kind its devices are named by and how the
// process's driver table for it is loaded (Unavailable, saying why, when it cannot be).
struct GpuVendorProbe {
  std::string kind;  // upper case: "CUDA", "HIP"
  std::function<StatusOr<const GpuApi*>()> load;
};

// NVIDIA (CUDA: libcuda.so.1 + NVRTC), then AMD (HIP: libamdhip64 + hiprtc).
std::vector<GpuVendorProbe> DefaultGpuVendors();

struct RegistryOptions {
  // Threads in the pool shared by all CPU devices; 0 = std::thread::hardware_concurrency().
  int cpu_threads = 0;
  // Compiler shared by all CPU devices.
  CpuCompilerOptions compiler;
  // Allocation cap per CPU device in bytes; 0 = unlimited.
  int64_t cpu_memory_limit_bytes = 0;

  // Whether GPUs are looked for. false: only the CPU devices exist, no driver or runtime
  // is loaded, and DefaultDevice() is "CPU:0" (for tests that need the CPU as default).
  bool enable_gpus = true;
  // The GPU vendors looked for, in the order DefaultDevice() prefers them.
  std::vector<GpuVendorProbe> gpu_vendors = DefaultGpuVendors();
  // Options for every GPU device. An empty gpu.compiler.cache_dir means
  // compiler.cache_dir above (so one setting moves every kernel cache).
  GpuDeviceOptions gpu;
};

// Lists the devices of this process and hands out long-lived Device pointers.
//
// There are kNumVirtualCpus virtual CPU devices, CPU:0..CPU:7, sharing one thread pool and
// one compiler (so the engine can exercise multi-device code on any host), and for each
// GPU vendor of RegistryOptions::gpu_vendors one "<kind>:<i>" device per GPU its driver
// reports (CUDA:<i>, HIP:<i>; none when the driver is absent, finds no GPU, or GPUs are
// disabled). TRACE:0, the tracing device for exporting graphs (devices/cpu/trace_device.h),
// shares the CPU pool and compiler and is not listed by Available().
// Each driver is loaded on the first call that needs to know. Each device, and the shared
// pool and compiler, is created on its first Get. Devices live as long as the registry.
// Thread-safe.
class DeviceRegistry : public DeviceSource {
 public:
  static constexpr int kNumVirtualCpus = 8;

  explicit DeviceRegistry(RegistryOptions options);
  ~DeviceRegistry() override;
  DeviceRegistry(const DeviceRegistry&) = delete;
  DeviceRegistry& operator=(const DeviceRegistry&) = delete;

  // The process's device table, created with default RegistryOptions on first use
  // (thread-safe) and never destroyed. Tests that need other options construct their own.
  static DeviceRegistry& Global();

  // Returns the device called `name`: "<kind>" (index 0) or "<kind>:<index>", the kind
  // case-insensitive ("cpu:1" is CPU:1). InvalidArgument for a malformed name ("", "CPU:x");
  // NotFound, listing what is available (and for a GPU kind without devices, why), for an
  // unknown kind or an index out of range.
  StatusOr<Device*> Get(std::string_view name) override;

  // Canonical names of all devices, e.g. {"CPU:0", ..., "CPU:7", "CUDA:0", "HIP:0"}.
  std::vector<std::string> Available() const;

  // The device the engine uses when none is named: "<kind>:0" of the first vendor of
  // gpu_vendors that has a device (by default CUDA:0, else HIP:0), else "CPU:0".
  std::string DefaultDevice() const override;

 private:
  // One GPU vendor: what its driver reported, found once on first need (loading it costs
  // an init call), and its devices.
  struct GpuVendor {
    GpuVendorProbe probe;
    std::once_flag once;
    const GpuApi* api = nullptr;  // null when the driver could not be loaded
    int count = 0;
    std::string why_none;                             // set when count is 0
    // count long once filled; under the registry's mutex_ (clang cannot name an enclosing
    // object's mutex in a nested struct's annotation).
    std::vector<std::unique_ptr<GpuDevice>> devices;
  };

  Device* GetCpu(int index) EXCLUDES(mutex_);
  // TRACE:0 (devices/cpu/trace_device.h), created on first use; not listed by Available().
  Device* GetTrace() EXCLUDES(mutex_);
  void EnsureCpuShared() REQUIRES(mutex_);
  std::string AvailableSummary() const;
  // The vendor after its probe ran.
  GpuVendor& Probed(GpuVendor& vendor) const;
  // <kind>:<index>, created on first use; NotFound, saying why, when out of range.
  StatusOr<Device*> GetGpu(GpuVendor& vendor, int index) EXCLUDES(mutex_);

  const RegistryOptions options_;

  Mutex mutex_;
  std::shared_ptr<ThreadPool> cpu_pool_ GUARDED_BY(mutex_);
  std::shared_ptr<CpuCompiler> cpu_compiler_ GUARDED_BY(mutex_);
  std::array<std::unique_ptr<CpuDevice>, kNumVirtualCpus> cpus_ GUARDED_BY(mutex_);
  std::unique_ptr<TraceDevice> trace_ GUARDED_BY(mutex_);

  std::vector<std::unique_ptr<GpuVendor>> gpus_;  // one per options_.gpu_vendors, fixed
};

}  // namespace petabox
