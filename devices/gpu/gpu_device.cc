#include "devices/gpu/gpu_device.h"

#include <utility>

#include "devices/gpu/gpu_program.h"

namespace petabox {
namespace {

// A NUL-terminated string from a driver call that fills a char buffer.
template <typename Fill>
StatusOr<std::string> DriverString(const GpuApi& api, Fill fill, const char* what) {
  char buffer[256] = {};
  PB_RETURN_IF_ERROR(api.Check(fill(buffer, static_cast<int>(sizeof(buffer) - 1)), what));
  return std::string(buffer);
}

}  // namespace

GpuDevice::GpuDevice(std::shared_ptr<GpuContext> context) : context_(std::move(context)) {}

StatusOr<std::unique_ptr<GpuDevice>> GpuDevice::Create(const GpuApi* api, int ordinal,
                                                       GpuDeviceOptions options) {
  PB_ASSIGN_OR_RETURN(std::shared_ptr<GpuContext> context, GpuContext::Create(api, ordinal));
  std::unique_ptr<GpuDevice> device(new GpuDevice(std::move(context)));
  PB_RETURN_IF_ERROR(device->ReadProperties());
  device->allocator_ = std::make_unique<GpuAllocator>(device->context_, options.allocator);
  device->compiler_ = std::make_unique<GpuCompiler>(api, device->properties_.arch, options.compiler);
  return device;
}

Status GpuDevice::ReadProperties() {
  const GpuApi& api = context_->api();
  const int dev = context_->place().device;
  int units = 0;
  PB_RETURN_IF_ERROR(api.Check(api.device_attribute(&units, api.attribute_multiprocessor_count, dev),
                               "device_attribute(multiprocessor count)"));
  PB_RETURN_IF_ERROR(api.Check(api.device_attribute(&warp_size_, api.attribute_warp_size, dev),
                               "device_attribute(warp size)"));
  size_t total = 0;
  PB_RETURN_IF_ERROR(api.Check(api.total_mem(&total, dev), "total_mem"));
  auto name = [&](char* buffer, int n) { return api.device_name(buffer, n, dev); };
  auto bus_id = [&](char* buffer, int n) { return api.pci_bus_id(buffer, n, dev); };
  PB_ASSIGN_OR_RETURN(model_name_, DriverString(api, name, "device_name"));
  PB_ASSIGN_OR_RETURN(pci_bus_id_, DriverString(api, bus_id, "pci_bus_id"));
  PB_RETURN_IF_ERROR(api.ReadArch(context_->place(), &properties_.arch, &arch_name_));
  properties_.name = context_->name();
  properties_.kind = api.kind;
  properties_.dialect = api.dialect;
  properties_.memory_bytes = static_cast<int64_t>(total);
  properties_.vector_bytes = 16;  // one 128-bit load/store per thread
  properties_.compute_units = units;
  return Status::Ok();
}

StatusOr<std::unique_ptr<Program>> GpuDevice::LoadProgram(const std::string& binary,
                                                          const std::string& function_name) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<GpuProgram> program,
                      GpuProgram::Load(context_, binary, function_name));
  return std::unique_ptr<Program>(std::move(program));
}

bool GpuDevice::CanAccessPeer(Device& other) {
  if (&other == this) return true;
  auto* gpu = dynamic_cast<GpuDevice*>(&other);
  if (gpu == nullptr || &gpu->context_->api() != &context_->api()) return false;
  MutexLock lock(peers_mutex_);
  if (auto it = peers_.find(&other); it != peers_.end()) return it->second;
  const GpuApi& api = context_->api();
  int can_access = 0;
  bool ok = api.can_access_peer(&can_access, context_->place().device,
                                gpu->context_->place().device) == api.codes.success &&
            can_access != 0 && context_->EnablePeerAccess(*gpu->context_).ok();
  peers_[&other] = ok;
  return ok;
}

Status GpuDevice::CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) {
  auto* gpu = dynamic_cast<GpuDevice*>(&src_device);
  if (gpu == nullptr || &gpu->context_->api() != &context_->api()) {
    return Device::CopyFromDevice(dst, src_device, src, bytes);
  }
  return CopyDeviceToDevice(*this, dst, *gpu, src, bytes);
}

}  // namespace petabox
