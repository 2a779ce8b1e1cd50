#include "devices/cuda/cuda_device.h"

#include <utility>

#include "devices/cuda/cuda_program.h"

namespace petabox {
namespace {

StatusOr<int> Attribute(const CudaApi& api, CUdevice device, int attribute, const char* what) {
  int value = 0;
  PB_RETURN_IF_ERROR(CudaCheck(
      api.cuDeviceGetAttribute(&value, static_cast<CUdevice_attribute>(attribute), device), what));
  return value;
}

// A NUL-terminated string from a driver call that fills a char buffer.
template <typename Fill>
StatusOr<std::string> DriverString(Fill fill, const char* what) {
  char buffer[256] = {};
  PB_RETURN_IF_ERROR(CudaCheck(fill(buffer, static_cast<int>(sizeof(buffer) - 1)), what));
  return std::string(buffer);
}

}  // namespace

CudaDevice::CudaDevice(std::shared_ptr<CudaContext> context) : context_(std::move(context)) {}

StatusOr<std::unique_ptr<CudaDevice>> CudaDevice::Create(const CudaApi* api, int ordinal,
                                                         CudaDeviceOptions options) {
  PB_ASSIGN_OR_RETURN(std::shared_ptr<CudaContext> context, CudaContext::Create(api, ordinal));
  std::unique_ptr<CudaDevice> device(new CudaDevice(std::move(context)));
  PB_RETURN_IF_ERROR(device->ReadProperties());
  device->allocator_ = std::make_unique<CudaAllocator>(device->context_, options.allocator);
  device->compiler_ =
      std::make_unique<CudaCompiler>(api, device->compute_capability_, options.compiler);
  return device;
}

Status CudaDevice::ReadProperties() {
  const CudaApi& api = context_->api();
  const CUdevice dev = context_->device();
  PB_ASSIGN_OR_RETURN(int major, Attribute(api, dev, kCuDeviceAttributeComputeCapabilityMajor,
                                           "cuDeviceGetAttribute(compute capability major)"));
  PB_ASSIGN_OR_RETURN(int minor, Attribute(api, dev, kCuDeviceAttributeComputeCapabilityMinor,
                                           "cuDeviceGetAttribute(compute capability minor)"));
  PB_ASSIGN_OR_RETURN(int sms, Attribute(api, dev, kCuDeviceAttributeMultiprocessorCount,
                                         "cuDeviceGetAttribute(multiprocessor count)"));
  size_t total = 0;
  PB_RETURN_IF_ERROR(CudaCheck(api.cuDeviceTotalMem_v2(&total, dev), "cuDeviceTotalMem"));
  auto name = [&](char* buffer, int n) { return api.cuDeviceGetName(buffer, n, dev); };
  auto bus_id = [&](char* buffer, int n) { return api.cuDeviceGetPCIBusId(buffer, n, dev); };
  PB_ASSIGN_OR_RETURN(model_name_, DriverString(name, "cuDeviceGetName"));
  PB_ASSIGN_OR_RETURN(pci_bus_id_, DriverString(bus_id, "cuDeviceGetPCIBusId"));
  compute_capability_ = major * 10 + minor;
  properties_.name = context_->name();
  properties_.kind = "CUDA";
  properties_.arch = "sm_" + std::to_string(major) + std::to_string(minor);
  properties_.dialect = "cuda";
  properties_.memory_bytes = static_cast<int64_t>(total);
  properties_.vector_bytes = 16;  // one 128-bit load/store per thread
  properties_.compute_units = sms;
  return Status::Ok();
}

StatusOr<std::unique_ptr<Program>> CudaDevice::LoadProgram(const std::string& binary,
                                                           const std::string& function_name) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<CudaProgram> program,
                      CudaProgram::Load(context_, binary, function_name));
  return std::unique_ptr<Program>(std::move(program));
}

bool CudaDevice::CanAccessPeer(Device& other) {
  if (&other == this) return true;
  auto* cuda = dynamic_cast<CudaDevice*>(&other);
  if (cuda == nullptr) return false;
  std::lock_guard<std::mutex> lock(peers_mutex_);
  if (auto it = peers_.find(&other); it != peers_.end()) return it->second;
  int can_access = 0;
  const CudaApi& api = context_->api();
  bool ok = api.cuDeviceCanAccessPeer(&can_access, context_->device(), cuda->context_->device()) == kCudaSuccess &&
            can_access != 0 && context_->EnablePeerAccess(*cuda->context_).ok();
  peers_[&other] = ok;
  return ok;
}

Status CudaDevice::CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) {
  auto* cuda = dynamic_cast<CudaDevice*>(&src_device);
  if (cuda == nullptr) return Device::CopyFromDevice(dst, src_device, src, bytes);
  return CopyDeviceToDevice(*this, dst, *cuda, src, bytes);
}

}  // namespace petabox
