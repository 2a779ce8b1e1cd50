#include "devices/gpu/cuda_api.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace petabox {
namespace {

constexpr GpuErrorClass kCudaErrors[] = {
    {kCudaErrorOutOfMemory, StatusCode::kResourceExhausted},
    {kCudaErrorNotFound, StatusCode::kNotFound},
    {kCudaErrorNoDevice, StatusCode::kUnavailable},
    {kCudaErrorStubLibrary, StatusCode::kUnavailable},
    {kCudaErrorDeviceUnavailable, StatusCode::kUnavailable},
    {kCudaErrorSystemDriverMismatch, StatusCode::kUnavailable},
    {kCudaErrorNotInitialized, StatusCode::kUnavailable},
    {kCudaErrorDeinitialized, StatusCode::kUnavailable},
    {kCudaErrorInvalidValue, StatusCode::kInvalidArgument},
    {kCudaErrorInvalidDevice, StatusCode::kInvalidArgument},
    {kCudaErrorInvalidImage, StatusCode::kInvalidArgument},
    {kCudaErrorNoBinaryForGpu, StatusCode::kInvalidArgument},
    {kCudaErrorInvalidPtx, StatusCode::kInvalidArgument},
    {kCudaErrorUnsupportedPtxVersion, StatusCode::kInvalidArgument},
};

constexpr GpuErrorClass kNvrtcErrors[] = {
    {kNvrtcErrorOutOfMemory, StatusCode::kResourceExhausted},
    {kNvrtcErrorInvalidInput, StatusCode::kInvalidArgument},
    {kNvrtcErrorInvalidOption, StatusCode::kInvalidArgument},
    {kNvrtcErrorCompilation, StatusCode::kInvalidArgument},
    {kNvrtcErrorBuiltinOperationFailure, StatusCode::kUnavailable},
};

Status ResolveDriver(void* handle, const std::string& library, CudaApi* api) {
  SymbolLoader l(handle);
  l.Require("cuInit", &api->init);
  l.Require("cuDriverGetVersion", &api->driver_version);
  l.Require("cuGetErrorName", &api->cuGetErrorName);
  l.Require("cuGetErrorString", &api->cuGetErrorString);
  l.Require("cuDeviceGetCount", &api->device_count);
  l.Require("cuDeviceGet", &api->device_get);
  l.Require("cuDeviceGetName", &api->device_name);
  l.Require("cuDeviceGetAttribute", &api->device_attribute);
  l.Require("cuDeviceGetPCIBusId", &api->pci_bus_id);
  l.Require("cuDeviceTotalMem_v2", &api->total_mem);
  l.Require("cuDeviceCanAccessPeer", &api->can_access_peer);
  l.Require("cuDevicePrimaryCtxRetain", &api->cuDevicePrimaryCtxRetain);
  l.Require("cuDevicePrimaryCtxRelease_v2", &api->cuDevicePrimaryCtxRelease_v2);
  l.Require("cuCtxSetCurrent", &api->cuCtxSetCurrent);
  l.Require("cuCtxEnablePeerAccess", &api->cuCtxEnablePeerAccess);
  l.Require("cuMemGetInfo_v2", &api->mem_get_info);
  l.Require("cuMemAlloc_v2", &api->mem_alloc);
  l.Require("cuMemFree_v2", &api->mem_free);
  l.Require("cuMemHostAlloc", &api->host_alloc);
  l.Require("cuMemFreeHost", &api->host_free);
  l.Require("cuMemcpyHtoDAsync_v2", &api->memcpy_htod_async);
  l.Require("cuMemcpyDtoHAsync_v2", &api->memcpy_dtoh_async);
  l.Require("cuMemcpyDtoDAsync_v2", &api->memcpy_dtod_async);
  l.Require("cuMemcpyPeerAsync", &api->cuMemcpyPeerAsync);
  l.Require("cuStreamCreate", &api->stream_create);
  l.Require("cuStreamDestroy_v2", &api->stream_destroy);
  l.Require("cuStreamSynchronize", &api->stream_synchronize);
  l.Require("cuEventCreate", &api->event_create);
  l.Require("cuEventDestroy_v2", &api->event_destroy);
  l.Require("cuEventRecord", &api->event_record);
  l.Require("cuEventElapsedTime", &api->event_elapsed);
  l.Require("cuModuleLoadData", &api->module_load);
  l.Require("cuModuleUnload", &api->module_unload);
  l.Require("cuModuleGetFunction", &api->module_function);
  l.Require("cuLaunchKernel", &api->launch_kernel);
  l.Require("cuFuncSetAttribute", &api->func_set_attribute);
  return l.Finish(library);
}

// NVRTC is optional: without it devices still allocate, copy and run cached kernels.
void LoadNvrtc(const std::vector<std::string>& names, CudaApi* api) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary(names);
  if (!opened.ok()) return ClearRtc(api, opened.status().message());
  api->rtc_handle = std::move(opened->handle);
  SymbolLoader l(api->rtc_handle.get());
  RequireRtc(l,
             {"nvrtcGetErrorString", "nvrtcVersion", "nvrtcCreateProgram", "nvrtcDestroyProgram",
              "nvrtcCompileProgram", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog"},
             api);
  l.Require("nvrtcGetPTXSize", &api->rtc_ptx_size);
  l.Require("nvrtcGetPTX", &api->rtc_ptx);
  // Optional: absent from older NVRTCs, which then fall back to PTX for the newest arch
  // they know.
  LoadSymbol(api->rtc_handle.get(), "nvrtcGetCUBINSize", &api->rtc_code_size);
  LoadSymbol(api->rtc_handle.get(), "nvrtcGetCUBIN", &api->rtc_code);
  LoadSymbol(api->rtc_handle.get(), "nvrtcGetNumSupportedArchs", &api->nvrtcGetNumSupportedArchs);
  LoadSymbol(api->rtc_handle.get(), "nvrtcGetSupportedArchs", &api->nvrtcGetSupportedArchs);
  FinishRtc(l.Finish(opened->name), opened->name, api);
}

// The archs NVRTC can target, or empty when it cannot say (before 11.2, or no NVRTC).
std::vector<int> SupportedArchs(const CudaApi& api) {
  if (api.nvrtcGetNumSupportedArchs == nullptr || api.nvrtcGetSupportedArchs == nullptr) return {};
  int count = 0;
  if (api.nvrtcGetNumSupportedArchs(&count) != kNvrtcSuccess || count <= 0) return {};
  std::vector<int> archs(static_cast<size_t>(count));
  if (api.nvrtcGetSupportedArchs(archs.data()) != kNvrtcSuccess) return {};
  return archs;
}

}  // namespace

CudaApi::CudaApi() {
  kind = "CUDA";
  dialect = "cuda";
  rtc_name = "NVRTC";
  source_name = "petabox_kernel.cu";
  cache_subdir = "cuda";
  cache_suffix = ".bin";
  attribute_multiprocessor_count = kCuDeviceAttributeMultiprocessorCount;
  attribute_warp_size = kCuDeviceAttributeWarpSize;
  attribute_max_dynamic_shared = 8;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  stream_non_blocking = kCuStreamNonBlocking;
  event_default = kCuEventDefault;
  codes.function_missing = kCudaErrorNotFound;
  error_classes = kCudaErrors;
  rtc_error_classes = kNvrtcErrors;
}

const char* CudaApi::ErrorName(GpuResult r) const {
  const char* name = nullptr;
  if (cuGetErrorName != nullptr) cuGetErrorName(r, &name);
  return name;
}

const char* CudaApi::ErrorText(GpuResult r) const {
  const char* text = nullptr;
  if (cuGetErrorString != nullptr) cuGetErrorString(r, &text);
  return text;
}

Status CudaApi::OpenDevice(int ordinal, GpuPlace* place) const {
  place->ordinal = ordinal;
  PB_RETURN_IF_ERROR(Check(device_get(&place->device, ordinal), "cuDeviceGet"));
  return Check(cuDevicePrimaryCtxRetain(&place->context, place->device), "cuDevicePrimaryCtxRetain");
}

void CudaApi::CloseDevice(const GpuPlace& place) const {
  if (place.context != nullptr) cuDevicePrimaryCtxRelease_v2(place.device);
}

Status CudaApi::MakeCurrent(const GpuPlace& place) const {
  return Check(cuCtxSetCurrent(place.context), "cuCtxSetCurrent");
}

GpuResult CudaApi::EnablePeerAccess(const GpuPlace& peer) const {
  return cuCtxEnablePeerAccess(peer.context, 0);
}

GpuResult CudaApi::CopyPeerAsync(GpuDevicePtr dst, const GpuPlace& dst_place, GpuDevicePtr src,
                                 const GpuPlace& src_place, size_t bytes, GpuStream stream) const {
  return cuMemcpyPeerAsync(dst, dst_place.context, src, src_place.context, bytes, stream);
}

Status CudaApi::ReadArch(const GpuPlace& place, std::string* arch, std::string* arch_name) const {
  int major = 0, minor = 0;
  PB_RETURN_IF_ERROR(Check(device_attribute(&major, kCuDeviceAttributeComputeCapabilityMajor, place.device),
                           "cuDeviceGetAttribute(compute capability major)"));
  PB_RETURN_IF_ERROR(Check(device_attribute(&minor, kCuDeviceAttributeComputeCapabilityMinor, place.device),
                           "cuDeviceGetAttribute(compute capability minor)"));
  *arch = *arch_name = "sm_" + std::to_string(major) + std::to_string(minor);
  return Status::Ok();
}

RtcTarget CudaApi::CompileTarget(const std::string& arch, const GpuCompilerOptions& options) const {
  const int sm = arch.rfind("sm_", 0) == 0 ? std::atoi(arch.c_str() + 3) : 0;
  RtcTarget target = has_rtc() ? SelectNvrtcTarget(sm, SupportedArchs(*this), has_machine_code())
                               : SelectNvrtcTarget(sm, {}, false);
  target.options = NvrtcOptions(target, options);
  return target;
}

RtcTarget SelectNvrtcTarget(int sm, const std::vector<int>& supported, bool can_emit_cubin) {
  const bool knows_sm =
      supported.empty() || std::find(supported.begin(), supported.end(), sm) != supported.end();
  if (knows_sm) {
    return RtcTarget{(can_emit_cubin ? "sm_" : "compute_") + std::to_string(sm), can_emit_cubin, {}};
  }
  // A device newer than NVRTC: PTX for the newest arch NVRTC knows runs on it after JIT.
  int best = 0;
  for (int arch : supported) {
    if (arch <= sm) best = std::max(best, arch);
  }
  // A device older than anything NVRTC supports: ask for its own arch, so NVRTC's error
  // names the problem.
  if (best == 0) best = sm;
  return RtcTarget{"compute_" + std::to_string(best), false, {}};
}

std::vector<std::string> NvrtcOptions(const RtcTarget& target, const GpuCompilerOptions& options) {
  std::vector<std::string> flags = {"--gpu-architecture=" + target.arch, "-default-device",
                                    "--std=c++17"};
  if (options.fast_math) flags.push_back("--use_fast_math");
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return flags;
}

StatusOr<std::unique_ptr<CudaApi>> LoadCudaApiFrom(const CudaLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary({names.driver}));
  auto api = std::make_unique<CudaApi>();
  api->runtime_library = opened.name;
  api->runtime_handle = std::move(opened.handle);
  PB_RETURN_IF_ERROR(ResolveDriver(api->runtime_handle.get(), names.driver, api.get()));
  // Every failure of cuInit means "no usable CUDA here", whatever the code.
  if (GpuResult r = api->init(0); r != kCudaSuccess) {
    return Unavailable(api->Check(r, "cuInit").message());
  }
  if (GpuResult r = api->driver_version(&api->driver_version_number); r != kCudaSuccess) {
    return Unavailable(api->Check(r, "cuDriverGetVersion").message());
  }
  LoadNvrtc(names.nvrtc, api.get());
  return api;
}

StatusOr<const GpuApi*> LoadCudaApi() {
  // Deliberately leaked: devices that outlive static destruction may still call the driver.
  static const StatusOr<const GpuApi*>* const loaded = [] {
    StatusOr<std::unique_ptr<CudaApi>> api = LoadCudaApiFrom(CudaLibraryNames{});
    if (!api.ok()) return new StatusOr<const GpuApi*>(api.status());
    return new StatusOr<const GpuApi*>(std::move(api).value().release());
  }();
  return *loaded;
}

}  // namespace petabox
