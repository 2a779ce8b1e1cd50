// The CUDA backend: device memory (CudaAllocator), kernels compiled by NVRTC
// (CudaCompiler), run as CudaPrograms on one stream per device.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "devices/cuda/cuda_allocator.h"
#include "devices/cuda/cuda_api.h"
#include "devices/cuda/cuda_compiler.h"
#include "devices/cuda/cuda_context.h"
#include "devices/device.h"

namespace petabox {

struct CudaDeviceOptions {
  CudaCompilerOptions compiler;
  CudaAllocatorOptions allocator;
};

// One NVIDIA GPU ("CUDA:<ordinal>") on its primary context, shared with any other user of
// the driver API in the process. Every public call makes the context current first, so
// any thread may call. Thread-safe, except that Programs it loads follow the Program
// contract (Launch from one thread at a time per device).
class CudaDevice : public Device {
 public:
  // Opens device `ordinal` of `api` (which must outlive the device): retains its primary
  // context, creates its stream and reads its properties. Errors as the driver reports
  // them (e.g. InvalidArgument for an ordinal that does not exist).
  static StatusOr<std::unique_ptr<CudaDevice>> Create(const CudaApi* api, int ordinal,
                                                      CudaDeviceOptions options = {});

  // name "CUDA:<ordinal>", kind "CUDA", arch "sm_<major><minor>", dialect "cuda",
  // memory_bytes from cuDeviceTotalMem, compute_units = SMs, vector_bytes 16.
  const DeviceProperties& properties() const override { return properties_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  // cuModuleLoadData + cuModuleGetFunction; see CudaProgram::Load.
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary,
                                                 const std::string& function_name) override;
  // cuStreamSynchronize on the device's stream.
  Status Synchronize() override { return context_->Synchronize(); }
  // From another CUDA device (or this one): CopyDeviceToDevice (peer access where the
  // GPUs allow it, host memory otherwise), on the copy stream. Unimplemented for other kinds.
  Status CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) override;
  // For another CUDA device: cuDeviceCanAccessPeer, then peer access enabled from this
  // context (once; the answer is kept). False for other kinds, or when the driver refuses.
  bool CanAccessPeer(Device& other) override;

  CudaAllocator& cuda_allocator() { return *allocator_; }
  CudaCompiler& cuda_compiler() { return *compiler_; }
  CudaContext& cuda_context() { return *context_; }
  // The product name, e.g. "NVIDIA H100 80GB HBM3".
  const std::string& model_name() const { return model_name_; }
  // The PCI bus id, e.g. "0000:3B:00.0" (how NVML finds the same GPU, whose index order
  // may differ from CUDA's).
  const std::string& pci_bus_id() const { return pci_bus_id_; }
  // major * 10 + minor, e.g. 90.
  int compute_capability() const { return compute_capability_; }

 private:
  explicit CudaDevice(std::shared_ptr<CudaContext> context);
  Status ReadProperties();

  // Declared first so that it is destroyed last (the allocator frees into it).
  const std::shared_ptr<CudaContext> context_;
  DeviceProperties properties_;
  std::string model_name_;
  std::string pci_bus_id_;
  int compute_capability_ = 0;
  std::unique_ptr<CudaAllocator> allocator_;
  std::unique_ptr<CudaCompiler> compiler_;
  std::mutex peers_mutex_;
  std::map<const Device*, bool> peers_;  // GUARDED_BY(peers_mutex_): CanAccessPeer's answers
};

}  // namespace petabox
