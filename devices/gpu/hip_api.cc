#include "devices/gpu/hip_api.h"

#include <utility>

namespace petabox {
namespace {

constexpr GpuErrorClass kHipErrors[] = {
    {kHipErrorOutOfMemory, StatusCode::kResourceExhausted},
    {kHipErrorNotFound, StatusCode::kNotFound},
    {kHipErrorNoDevice, StatusCode::kUnavailable},
    {kHipErrorInsufficientDriver, StatusCode::kUnavailable},
    {kHipErrorNotInitialized, StatusCode::kUnavailable},
    {kHipErrorDeinitialized, StatusCode::kUnavailable},
    {kHipErrorInvalidValue, StatusCode::kInvalidArgument},
    {kHipErrorInvalidDevice, StatusCode::kInvalidArgument},
    {kHipErrorInvalidDeviceFunction, StatusCode::kInvalidArgument},
    {kHipErrorInvalidImage, StatusCode::kInvalidArgument},
    {kHipErrorNoBinaryForGpu, StatusCode::kInvalidArgument},
    {kHipErrorInvalidKernelFile, StatusCode::kInvalidArgument},
};

constexpr GpuErrorClass kHiprtcErrors[] = {
    {kHiprtcErrorOutOfMemory, StatusCode::kResourceExhausted},
    {kHiprtcErrorInvalidInput, StatusCode::kInvalidArgument},
    {kHiprtcErrorInvalidProgram, StatusCode::kInvalidArgument},
    {kHiprtcErrorInvalidOption, StatusCode::kInvalidArgument},
    {kHiprtcErrorCompilation, StatusCode::kInvalidArgument},
    {kHiprtcErrorBuiltinOperationFailure, StatusCode::kUnavailable},
};

// hiprtc's names, for when the library cannot give them (hiprtcGetErrorString absent).
constexpr const char* kHiprtcErrorNames[] = {
    "HIPRTC_SUCCESS",
    "HIPRTC_ERROR_OUT_OF_MEMORY",
    "HIPRTC_ERROR_PROGRAM_CREATION_FAILURE",
    "HIPRTC_ERROR_INVALID_INPUT",
    "HIPRTC_ERROR_INVALID_PROGRAM",
    "HIPRTC_ERROR_INVALID_OPTION",
    "HIPRTC_ERROR_COMPILATION",
    "HIPRTC_ERROR_BUILTIN_OPERATION_FAILURE",
};

Status ResolveRuntime(void* handle, const std::string& library, HipApi* api) {
  SymbolLoader l(handle);
  l.Require("hipInit", &api->init);
  l.Require("hipDriverGetVersion", &api->driver_version);
  l.Require("hipRuntimeGetVersion", &api->hipRuntimeGetVersion);
  l.Require("hipGetErrorName", &api->hipGetErrorName);
  l.Require("hipGetErrorString", &api->hipGetErrorString);
  l.Require("hipGetDeviceCount", &api->device_count);
  l.Require("hipSetDevice", &api->hipSetDevice);
  l.Require("hipDeviceGet", &api->device_get);
  l.Require("hipDeviceGetName", &api->device_name);
  l.Require("hipDeviceTotalMem", &api->total_mem);
  l.Require("hipDeviceGetAttribute", &api->device_attribute);
  l.Require("hipDeviceGetPCIBusId", &api->pci_bus_id);
  l.Require("hipDeviceCanAccessPeer", &api->can_access_peer);
  l.Require("hipDeviceEnablePeerAccess", &api->hipDeviceEnablePeerAccess);
  l.Require("hipMemGetInfo", &api->mem_get_info);
  l.Require("hipMalloc", &api->mem_alloc);
  l.Require("hipFree", &api->mem_free);
  l.Require("hipMemcpyHtoDAsync", &api->memcpy_htod_async);
  l.Require("hipMemcpyDtoHAsync", &api->memcpy_dtoh_async);
  l.Require("hipMemcpyDtoDAsync", &api->memcpy_dtod_async);
  l.Require("hipMemcpyPeerAsync", &api->hipMemcpyPeerAsync);
  l.Require("hipStreamCreateWithFlags", &api->stream_create);
  l.Require("hipStreamDestroy", &api->stream_destroy);
  l.Require("hipStreamSynchronize", &api->stream_synchronize);
  l.Require("hipEventCreateWithFlags", &api->event_create);
  l.Require("hipEventDestroy", &api->event_destroy);
  l.Require("hipEventRecord", &api->event_record);
  l.Require("hipEventElapsedTime", &api->event_elapsed);
  l.Require("hipModuleLoadData", &api->module_load);
  l.Require("hipModuleUnload", &api->module_unload);
  l.Require("hipModuleGetFunction", &api->module_function);
  l.Require("hipModuleLaunchKernel", &api->launch_kernel);
  // The R0600 entry point fills the layout of ROCm 6+; the plain name keeps the ROCm 5
  // layout in every version (ROCm 6 headers map the plain name to R0600 by macro).
  api->props_r0600 =
      LoadSymbol(handle, "hipGetDevicePropertiesR0600", &api->hipGetDeviceProperties);
  if (!api->props_r0600) l.Require("hipGetDeviceProperties", &api->hipGetDeviceProperties);
  // Optional (deprecated in newer ROCm): without them copies go from pageable memory.
  LoadSymbol(handle, "hipHostMalloc", &api->host_alloc);
  LoadSymbol(handle, "hipHostFree", &api->host_free);
  return l.Finish(library);
}

// hiprtc is optional. Its own library is preferred; ROCm 5.2 and older carry it inside
// libamdhip64.
void LoadHiprtc(const std::vector<std::string>& names, HipApi* api) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary(names);
  void* handle = api->runtime_handle.get();
  std::string library = api->runtime_library + " (built-in hiprtc)";
  if (opened.ok()) {
    api->rtc_handle = std::move(opened->handle);
    handle = api->rtc_handle.get();
    library = opened->name;
  }
  SymbolLoader l(handle);
  RequireRtc(l,
             {"hiprtcGetErrorString", "hiprtcVersion", "hiprtcCreateProgram",
              "hiprtcDestroyProgram", "hiprtcCompileProgram", "hiprtcGetProgramLogSize",
              "hiprtcGetProgramLog"},
             api);
  l.Require("hiprtcGetCodeSize", &api->rtc_code_size);
  l.Require("hiprtcGetCode", &api->rtc_code);
  Status resolved = l.Finish(library);
  if (!resolved.ok() && !opened.ok()) {
    resolved = Unavailable(opened.status().message() + "; " + resolved.message());
  }
  FinishRtc(resolved, std::move(library), api);
}

StatusOr<std::unique_ptr<HipApi>> LoadRuntime(const std::vector<std::string>& names) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary(names));
  auto api = std::make_unique<HipApi>();
  api->runtime_library = opened.name;
  api->runtime_handle = std::move(opened.handle);
  PB_RETURN_IF_ERROR(ResolveRuntime(api->runtime_handle.get(), api->runtime_library, api.get()));
  return api;
}

}  // namespace

HipApi::HipApi() {
  kind = "HIP";
  dialect = "hip";
  rtc_name = "hiprtc";
  source_name = "petabox_kernel.hip";
  cache_subdir = "hip";
  cache_suffix = ".hsaco";
  attribute_multiprocessor_count = kHipDeviceAttributeMultiprocessorCount;
  attribute_warp_size = kHipDeviceAttributeWarpSize;
  stream_non_blocking = kHipStreamNonBlocking;
  event_default = kHipEventDefault;
  // Runtimes answer a missing kernel name with hipErrorNotFound or this.
  codes.function_missing = kHipErrorInvalidDeviceFunction;
  error_classes = kHipErrors;
  rtc_error_classes = kHiprtcErrors;
}

const char* HipApi::ErrorName(GpuResult r) const {
  return hipGetErrorName != nullptr ? hipGetErrorName(r) : nullptr;
}

const char* HipApi::ErrorText(GpuResult r) const {
  return hipGetErrorString != nullptr ? hipGetErrorString(r) : nullptr;
}

const char* HipApi::RtcErrorName(RtcResult r) const {
  if (const char* name = GpuApi::RtcErrorName(r)) return name;
  constexpr int kKnown = static_cast<int>(std::size(kHiprtcErrorNames));
  return r > 0 && r < kKnown ? kHiprtcErrorNames[r] : nullptr;
}

Status HipApi::OpenDevice(int ordinal, GpuPlace* place) const {
  place->ordinal = ordinal;
  PB_RETURN_IF_ERROR(MakeCurrent(*place));
  return Check(device_get(&place->device, ordinal), "hipDeviceGet");
}

Status HipApi::MakeCurrent(const GpuPlace& place) const {
  return Check(hipSetDevice(place.ordinal), "hipSetDevice");
}

GpuResult HipApi::EnablePeerAccess(const GpuPlace& peer) const {
  return hipDeviceEnablePeerAccess(peer.ordinal, 0);
}

GpuResult HipApi::CopyPeerAsync(GpuDevicePtr dst, const GpuPlace& dst_place, GpuDevicePtr src,
                                const GpuPlace& src_place, size_t bytes, GpuStream stream) const {
  return hipMemcpyPeerAsync(dst, dst_place.ordinal, src, src_place.ordinal, bytes, stream);
}

Status HipApi::ReadArch(const GpuPlace& place, std::string* arch, std::string* arch_name) const {
  std::string props(kHipPropsBufferSize, '\0');
  const char* what = props_r0600 ? "hipGetDevicePropertiesR0600" : "hipGetDeviceProperties";
  PB_RETURN_IF_ERROR(Check(hipGetDeviceProperties(props.data(), place.ordinal), what));
  const size_t offset = props_r0600 ? kHipPropsR0600ArchOffset : kHipPropsR0000ArchOffset;
  PB_ASSIGN_OR_RETURN(*arch, GcnArchFromProperties(props, offset));
  std::string_view field = std::string_view(props).substr(offset, 256);
  *arch_name = std::string(field.substr(0, field.find('\0')));
  return Status::Ok();
}

RtcTarget HipApi::CompileTarget(const std::string& arch, const GpuCompilerOptions& options) const {
  return RtcTarget{arch, true, HiprtcOptions(arch, options)};
}

std::vector<std::string> HiprtcOptions(const std::string& arch, const GpuCompilerOptions& options) {
  std::vector<std::string> flags = {"--offload-arch=" + arch, "-O3"};
  if (options.fast_math) flags.push_back("-ffast-math");
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return flags;
}

StatusOr<std::unique_ptr<HipApi>> LoadHipLibrariesFrom(const HipLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<HipApi> api, LoadRuntime(names.runtime));
  LoadHiprtc(names.hiprtc, api.get());
  return api;
}

StatusOr<std::unique_ptr<HipApi>> LoadHipApiFrom(const HipLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<HipApi> api, LoadRuntime(names.runtime));
  // Every failure of hipInit means "no usable HIP here", whatever the code.
  if (GpuResult r = api->init(0); r != kHipSuccess) {
    return Unavailable(api->Check(r, "hipInit").message());
  }
  // Version queries are informational: a runtime that cannot answer them still works.
  (void)api->driver_version(&api->driver_version_number);
  (void)api->hipRuntimeGetVersion(&api->runtime_version);
  LoadHiprtc(names.hiprtc, api.get());
  return api;
}

StatusOr<const GpuApi*> LoadHipApi() {
  // Deliberately leaked: devices that outlive static destruction may still call the runtime.
  static const StatusOr<const GpuApi*>* const loaded = [] {
    StatusOr<std::unique_ptr<HipApi>> api = LoadHipApiFrom(HipLibraryNames{});
    if (!api.ok()) return new StatusOr<const GpuApi*>(api.status());
    return new StatusOr<const GpuApi*>(std::move(api).value().release());
  }();
  return *loaded;
}

StatusOr<std::string> GcnArchFromProperties(std::string_view props, size_t offset) {
  constexpr size_t kFieldBytes = 256;  // char gcnArchName[256] in both layouts
  if (props.size() < offset + kFieldBytes) {
    return Internal("hipDeviceProp_t buffer too small to hold gcnArchName");
  }
  std::string_view field = props.substr(offset, kFieldBytes);
  field = field.substr(0, field.find('\0'));
  std::string_view arch = field.substr(0, field.find(':'));
  const bool gfx = arch.size() > 3 && arch.substr(0, 3) == "gfx" &&
                   arch.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") ==
                       std::string_view::npos;
  if (!gfx) {
    std::string shown(field.substr(0, 32));
    for (char& c : shown) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return Internal("HIP device properties hold no gfx target at gcnArchName (read '" + shown +
                    "'): the runtime's hipDeviceProp_t layout is not one this build knows");
  }
  return std::string(arch);
}

}  // namespace petabox
