// The GPU backend, one implementation for NVIDIA (CUDA) and AMD (HIP) over the driver
// table of gpu_api.h: device memory (GpuAllocator), kernels compiled by the vendor's RTC
// (GpuCompiler), run as GpuPrograms on one stream per device.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "devices/device.h"
#include "devices/gpu/gpu_allocator.h"
#include "devices/gpu/gpu_api.h"
#include "devices/gpu/gpu_compiler.h"
#include "devices/gpu/gpu_context.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

struct GpuDeviceOptions {
  GpuCompilerOptions compiler;
  GpuAllocatorOptions allocator;
};

// One GPU ("<kind>:<ordinal>", e.g. "CUDA:1", "HIP:0"). On CUDA it runs on the device's
// primary context, shared with any other user of the driver API in the process. Every
// public call makes the device current first, so any thread may call. Thread-safe, except
// that Programs it loads follow the Program contract (Launch from one thread at a time per
// device).
class GpuDevice : public Device {
 public:
  // Opens device `ordinal` of `api` (which must outlive the device): creates its context
  // and streams and reads its properties. Errors as the driver reports them (e.g.
  // InvalidArgument for an ordinal that does not exist); Internal when HIP's gfx target
  // cannot be read.
  static StatusOr<std::unique_ptr<GpuDevice>> Create(const GpuApi* api, int ordinal,
                                                     GpuDeviceOptions options = {});

  // name "<kind>:<ordinal>", kind and dialect of the vendor ("CUDA"/"cuda", "HIP"/"hip"),
  // arch "sm_<major><minor>" or the gfx target, memory_bytes from total_mem,
  // compute_units = SMs or CUs, vector_bytes 16 (one 128-bit load/store per thread).
  const DeviceProperties& properties() const override { return properties_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  // module_load + module_function; see GpuProgram::Load.
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary,
                                                 const std::string& function_name) override;
  // Waits for the device's stream.
  Status Synchronize() override { return context_->Synchronize(); }
  // From another GPU of the same driver (or this one): CopyDeviceToDevice (peer access
  // where the GPUs allow it, host memory otherwise), on the copy stream. Unimplemented for
  // other devices.
  Status CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) override;
  // For another GPU of the same driver: can_access_peer, then peer access enabled from
  // this device (once; the answer is kept). False for other devices, or when the driver
  // refuses.
  bool CanAccessPeer(Device& other) override EXCLUDES(peers_mutex_);

  GpuAllocator& gpu_allocator() { return *allocator_; }
  GpuCompiler& gpu_compiler() { return *compiler_; }
  GpuContext& gpu_context() { return *context_; }
  // The product name, e.g. "NVIDIA H100 80GB HBM3", "Radeon RX 7900 XTX".
  const std::string& model_name() const { return model_name_; }
  // The PCI bus id, e.g. "0000:3B:00.0" (how NVML and ROCm SMI find the same GPU, whose
  // index order may differ from the driver's).
  const std::string& pci_bus_id() const { return pci_bus_id_; }
  // The arch as the driver names it: "sm_90"; HIP's gcnArchName keeps its target
  // features ("gfx90a:sramecc+:xnack-").
  const std::string& arch_name() const { return arch_name_; }
  // Threads per warp/wavefront: 32 on NVIDIA and RDNA, 64 on CDNA and GCN.
  int warp_size() const { return warp_size_; }

 private:
  explicit GpuDevice(std::shared_ptr<GpuContext> context);
  Status ReadProperties();

  // Declared first so that it is destroyed last (the allocator frees into it).
  const std::shared_ptr<GpuContext> context_;
  DeviceProperties properties_;
  std::string model_name_;
  std::string pci_bus_id_;
  std::string arch_name_;
  int warp_size_ = 0;
  std::unique_ptr<GpuAllocator> allocator_;
  std::unique_ptr<GpuCompiler> compiler_;
  Mutex peers_mutex_;
  std::map<const Device*, bool> peers_ GUARDED_BY(peers_mutex_);  // CanAccessPeer's answers

};

}  // namespace petabox
