// The table of devices that exist at run time, looked up by name ("CPU:0", "CUDA:1", "HIP:0").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "devices/cpu/cpu_compiler.h"
#include "devices/cpu/cpu_device.h"
#include "devices/cpu/thread_pool.h"
#include "devices/cpu/trace_device.h"
#include "devices/cuda/cuda_device.h"
#include "devices/device.h"
#include "devices/hip/hip_device.h"

namespace petabox {

struct RegistryOptions {
  // Threads in the pool shared by all CPU devices; 0 = std::thread::hardware_concurrency().
  int cpu_threads = 0;
  // Compiler shared by all CPU devices.
  CpuCompilerOptions compiler;
  // Allocation cap per CPU device in bytes; 0 = unlimited.
  int64_t cpu_memory_limit_bytes = 0;

  // --- CUDA (devices/cuda) ---
  // Whether GPUs (NVIDIA and AMD) are looked for. false: only the CPU devices exist, no
  // driver or runtime is loaded, and DefaultDevice() is "CPU:0" (for tests that need the
  // CPU as default).
  bool enable_gpus = true;
  // Options for every CUDA device. An empty cuda.compiler.cache_dir means
  // compiler.cache_dir above (so one setting moves both kernel caches).
  CudaDeviceOptions cuda;

  // --- HIP (devices/hip) ---
  // Options for every HIP device. An empty hip.compiler.cache_dir means
  // compiler.cache_dir above.
  HipDeviceOptions hip;
};

// Lists the devices of this process and hands out long-lived Device pointers.
//
// There are kNumVirtualCpus virtual CPU devices, CPU:0..CPU:7, sharing one thread pool and
// one compiler (so the engine can exercise multi-device code on any host), one CUDA:<i>
// device per NVIDIA GPU the driver reports (none when libcuda.so.1 is absent or
// RegistryOptions::enable_gpus is false) and one HIP:<i> device per AMD GPU the HIP
// runtime reports (none when libamdhip64 is absent, finds no GPU, or GPUs are disabled).
// TRACE:0, the tracing device for exporting graphs (devices/cpu/trace_device.h), shares
// the CPU pool and compiler and is not listed by Available().
// Each driver or runtime is loaded on the first call that needs to know. Each device, and
// the shared pool and compiler, is created on its first Get. Devices live as long as the
// registry. Thread-safe.
class DeviceRegistry {
 public:
  static constexpr int kNumVirtualCpus = 8;

  explicit DeviceRegistry(RegistryOptions options);
  ~DeviceRegistry();
  DeviceRegistry(const DeviceRegistry&) = delete;
  DeviceRegistry& operator=(const DeviceRegistry&) = delete;

  // The process's device table, created with default RegistryOptions on first use
  // (thread-safe) and never destroyed. Tests that need other options construct their own.
  static DeviceRegistry& Global();

  // Returns the device called `name`: "<kind>" (index 0) or "<kind>:<index>", the kind
  // case-insensitive ("cpu:1" is CPU:1). InvalidArgument for a malformed name ("", "CPU:x");
  // NotFound, listing what is available, for an unknown kind or an index out of range.
  StatusOr<Device*> Get(std::string_view name);

  // Canonical names of all devices, e.g. {"CPU:0", ..., "CPU:7", "CUDA:0", "HIP:0"}.
  std::vector<std::string> Available() const;

  // The device the engine uses when none is named: "CUDA:0" when there is a CUDA device,
  // else "HIP:0" when there is a HIP device, else "CPU:0".
  std::string DefaultDevice() const;

 private:
  Device* GetCpu(int index);
  // TRACE:0 (devices/cpu/trace_device.h), created on first use; not listed by Available().
  Device* GetTrace();
  std::string AvailableSummary() const;

  // --- CUDA ---
  // What the driver reported, found once on first need (loading it costs a cuInit).
  struct CudaProbe {
    const CudaApi* api = nullptr;  // null when the driver could not be loaded
    int count = 0;
    std::string why_none;  // set when count is 0
  };
  const CudaProbe& Cuda() const;
  // CUDA:<index>, created on first use; NotFound when out of range.
  StatusOr<Device*> GetCuda(int index);

  const RegistryOptions options_;

  std::mutex mutex_;
  std::shared_ptr<ThreadPool> cpu_pool_;                             // GUARDED_BY(mutex_)
  std::shared_ptr<CpuCompiler> cpu_compiler_;                        // GUARDED_BY(mutex_)
  std::array<std::unique_ptr<CpuDevice>, kNumVirtualCpus> cpus_;     // GUARDED_BY(mutex_)
  std::unique_ptr<TraceDevice> trace_;                               // GUARDED_BY(mutex_)

  mutable std::once_flag cuda_probe_once_;
  mutable CudaProbe cuda_probe_;                   // written once, under cuda_probe_once_
  std::vector<std::unique_ptr<CudaDevice>> cudas_;  // GUARDED_BY(mutex_); Cuda().count long

  // --- HIP ---
  // What the HIP runtime reported, found once on first need (loading it costs a hipInit).
  struct HipProbe {
    const HipApi* api = nullptr;  // null when the runtime could not be loaded
    int count = 0;
    std::string why_none;  // set when count is 0
  };
  const HipProbe& Hip() const;
  // HIP:<index>, created on first use; NotFound, saying why, when out of range.
  StatusOr<Device*> GetHip(int index);

  mutable std::once_flag hip_probe_once_;
  mutable HipProbe hip_probe_;                    // written once, under hip_probe_once_
  std::vector<std::unique_ptr<HipDevice>> hips_;  // GUARDED_BY(mutex_); Hip().count long
};

}  // namespace petabox
