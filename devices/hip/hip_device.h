// The HIP backend (AMD GPUs): device memory (HipAllocator), kernels compiled by hiprtc
// (HipCompiler), run as HipPrograms on one stream per device.
#pragma once

#include <memory>
#include <string>

#include "devices/device.h"
#include "devices/hip/hip_allocator.h"
#include "devices/hip/hip_api.h"
#include "devices/hip/hip_compiler.h"
#include "devices/hip/hip_context.h"

namespace petabox {

struct HipDeviceOptions {
  HipCompilerOptions compiler;
  HipAllocatorOptions allocator;
};

// One AMD GPU ("HIP:<ordinal>"). Every public call selects the device on the calling
// thread first, so any thread may call. Thread-safe, except that Programs it loads follow
// the Program contract (Launch from one thread at a time per device).
class HipDevice : public Device {
 public:
  // Opens device `ordinal` of `api` (which must outlive the device): creates its stream
  // and reads its properties. Errors as the runtime reports them (e.g. InvalidArgument for
  // an ordinal that does not exist); Internal when the gfx target cannot be read.
  static StatusOr<std::unique_ptr<HipDevice>> Create(const HipApi* api, int ordinal,
                                                     HipDeviceOptions options = {});

  // name "HIP:<ordinal>", kind "HIP", arch the gfx target ("gfx1100"), dialect "hip",
  // memory_bytes from hipDeviceTotalMem, compute_units = CUs, vector_bytes 16.
  const DeviceProperties& properties() const override { return properties_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  // hipModuleLoadData + hipModuleGetFunction; see HipProgram::Load.
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary,
                                                 const std::string& function_name) override;
  // hipStreamSynchronize on the device's stream.
  Status Synchronize() override { return context_->Synchronize(); }
  // From another HIP device (or this one): CopyDeviceToDevice. Unimplemented for other kinds.
  Status CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) override;

  HipAllocator& hip_allocator() { return *allocator_; }
  HipCompiler& hip_compiler() { return *compiler_; }
  HipContext& hip_context() { return *context_; }
  // The product name, e.g. "Radeon RX 7900 XTX".
  const std::string& model_name() const { return model_name_; }
  // The PCI bus id, e.g. "0000:03:00.0" (how ROCm SMI finds the same GPU).
  const std::string& pci_bus_id() const { return pci_bus_id_; }
  // gcnArchName as the runtime gives it, with target features ("gfx90a:sramecc+:xnack-").
  const std::string& gcn_arch_name() const { return gcn_arch_name_; }
  // Threads per wavefront: 32 on RDNA, 64 on CDNA and GCN.
  int warp_size() const { return warp_size_; }

 private:
  explicit HipDevice(std::shared_ptr<HipContext> context);
  Status ReadProperties();
  Status ReadArch(int ordinal);

  // Declared first so that it is destroyed last (the allocator frees through it).
  const std::shared_ptr<HipContext> context_;
  DeviceProperties properties_;
  std::string model_name_;
  std::string pci_bus_id_;
  std::string gcn_arch_name_;
  int warp_size_ = 0;
  std::unique_ptr<HipAllocator> allocator_;
  std::unique_ptr<HipCompiler> compiler_;
};

}  // namespace petabox
