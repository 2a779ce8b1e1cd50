#include "devices/hip/hip_device.h"

#include <utility>
#include <vector>

#include "devices/hip/hip_program.h"

namespace petabox {
namespace {

StatusOr<int> Attribute(const HipApi& api, int ordinal, int attribute, const char* what) {
  int value = 0;
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipDeviceGetAttribute(&value, static_cast<HipDeviceAttribute>(attribute), ordinal),
      what));
  return value;
}

// A NUL-terminated string from a runtime call that fills a char buffer.
template <typename Fill>
StatusOr<std::string> RuntimeString(const HipApi& api, Fill fill, const char* what) {
  char buffer[256] = {};
  PB_RETURN_IF_ERROR(HipCheckWith(&api, fill(buffer, static_cast<int>(sizeof(buffer) - 1)), what));
  return std::string(buffer);
}

}  // namespace

HipDevice::HipDevice(std::shared_ptr<HipContext> context) : context_(std::move(context)) {}

StatusOr<std::unique_ptr<HipDevice>> HipDevice::Create(const HipApi* api, int ordinal,
                                                       HipDeviceOptions options) {
  PB_ASSIGN_OR_RETURN(std::shared_ptr<HipContext> context, HipContext::Create(api, ordinal));
  std::unique_ptr<HipDevice> device(new HipDevice(std::move(context)));
  PB_RETURN_IF_ERROR(device->ReadProperties());
  device->allocator_ = std::make_unique<HipAllocator>(device->context_, options.allocator);
  device->compiler_ =
      std::make_unique<HipCompiler>(api, device->properties_.arch, options.compiler);
  return device;
}

// The gfx target, from whichever hipDeviceProp_t layout the runtime fills (hip_api.h).
Status HipDevice::ReadArch(int ordinal) {
  const HipApi& api = context_->api();
  std::vector<char> props(kHipPropsBufferSize, '\0');
  const char* what = api.props_r0600 ? "hipGetDevicePropertiesR0600" : "hipGetDeviceProperties";
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipGetDeviceProperties(props.data(), ordinal), what));
  const size_t offset = api.props_r0600 ? kHipPropsR0600ArchOffset : kHipPropsR0000ArchOffset;
  std::string_view bytes(props.data(), props.size());
  PB_ASSIGN_OR_RETURN(properties_.arch, GcnArchFromProperties(bytes, offset));
  std::string_view field = bytes.substr(offset, 256);
  gcn_arch_name_ = std::string(field.substr(0, field.find('\0')));
  return Status::Ok();
}

Status HipDevice::ReadProperties() {
  const HipApi& api = context_->api();
  const int ordinal = context_->ordinal();
  HipDeviceHandle handle = 0;
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipDeviceGet(&handle, ordinal), "hipDeviceGet"));
  PB_ASSIGN_OR_RETURN(int cus, Attribute(api, ordinal, kHipDeviceAttributeMultiprocessorCount,
                                         "hipDeviceGetAttribute(multiprocessor count)"));
  PB_ASSIGN_OR_RETURN(warp_size_, Attribute(api, ordinal, kHipDeviceAttributeWarpSize,
                                            "hipDeviceGetAttribute(warp size)"));
  size_t total = 0;
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipDeviceTotalMem(&total, handle), "hipDeviceTotalMem"));
  auto name = [&](char* buffer, int n) { return api.hipDeviceGetName(buffer, n, handle); };
  auto bus_id = [&](char* buffer, int n) { return api.hipDeviceGetPCIBusId(buffer, n, ordinal); };
  PB_ASSIGN_OR_RETURN(model_name_, RuntimeString(api, name, "hipDeviceGetName"));
  PB_ASSIGN_OR_RETURN(pci_bus_id_, RuntimeString(api, bus_id, "hipDeviceGetPCIBusId"));
  PB_RETURN_IF_ERROR(ReadArch(ordinal));
  properties_.name = context_->name();
  properties_.kind = "HIP";
  properties_.dialect = "hip";
  properties_.memory_bytes = static_cast<int64_t>(total);
  properties_.vector_bytes = 16;  // one 128-bit load/store per thread
  properties_.compute_units = cus;
  return Status::Ok();
}

StatusOr<std::unique_ptr<Program>> HipDevice::LoadProgram(const std::string& binary,
                                                          const std::string& function_name) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<HipProgram> program,
                      HipProgram::Load(context_, binary, function_name));
  return std::unique_ptr<Program>(std::move(program));
}

Status HipDevice::CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) {
  auto* hip = dynamic_cast<HipDevice*>(&src_device);
  if (hip == nullptr) return Device::CopyFromDevice(dst, src_device, src, bytes);
  return CopyDeviceToDevice(*this, dst, *hip, src, bytes);
}

}  // namespace petabox
