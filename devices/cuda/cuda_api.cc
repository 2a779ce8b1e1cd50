#include "devices/cuda/cuda_api.h"

#include <atomic>
#include <utility>

namespace petabox {
namespace {

// Set once LoadCudaApi() has a table, so the check helpers can name error codes with the
// driver's own strings. The loader itself formats errors with the table it is building.
std::atomic<const CudaApi*> g_process_api{nullptr};

Status ResolveDriverSymbols(void* handle, const std::string& library, CudaApi* api) {
  SymbolLoader loader(handle);
  loader.Require("cuInit", &api->cuInit);
  loader.Require("cuDriverGetVersion", &api->cuDriverGetVersion);
  loader.Require("cuGetErrorName", &api->cuGetErrorName);
  loader.Require("cuGetErrorString", &api->cuGetErrorString);
  loader.Require("cuDeviceGetCount", &api->cuDeviceGetCount);
  loader.Require("cuDeviceGet", &api->cuDeviceGet);
  loader.Require("cuDeviceGetName", &api->cuDeviceGetName);
  loader.Require("cuDeviceGetAttribute", &api->cuDeviceGetAttribute);
  loader.Require("cuDeviceGetPCIBusId", &api->cuDeviceGetPCIBusId);
  loader.Require("cuDeviceTotalMem_v2", &api->cuDeviceTotalMem_v2);
  loader.Require("cuDeviceCanAccessPeer", &api->cuDeviceCanAccessPeer);
  loader.Require("cuDevicePrimaryCtxRetain", &api->cuDevicePrimaryCtxRetain);
  loader.Require("cuDevicePrimaryCtxRelease_v2", &api->cuDevicePrimaryCtxRelease_v2);
  loader.Require("cuCtxSetCurrent", &api->cuCtxSetCurrent);
  loader.Require("cuCtxEnablePeerAccess", &api->cuCtxEnablePeerAccess);
  loader.Require("cuMemGetInfo_v2", &api->cuMemGetInfo_v2);
  loader.Require("cuMemAlloc_v2", &api->cuMemAlloc_v2);
  loader.Require("cuMemFree_v2", &api->cuMemFree_v2);
  loader.Require("cuMemAllocHost_v2", &api->cuMemAllocHost_v2);
  loader.Require("cuMemFreeHost", &api->cuMemFreeHost);
  loader.Require("cuMemcpyHtoDAsync_v2", &api->cuMemcpyHtoDAsync_v2);
  loader.Require("cuMemcpyDtoHAsync_v2", &api->cuMemcpyDtoHAsync_v2);
  loader.Require("cuMemcpyDtoDAsync_v2", &api->cuMemcpyDtoDAsync_v2);
  loader.Require("cuMemcpyPeerAsync", &api->cuMemcpyPeerAsync);
  loader.Require("cuStreamCreate", &api->cuStreamCreate);
  loader.Require("cuStreamDestroy_v2", &api->cuStreamDestroy_v2);
  loader.Require("cuStreamSynchronize", &api->cuStreamSynchronize);
  loader.Require("cuEventCreate", &api->cuEventCreate);
  loader.Require("cuEventDestroy_v2", &api->cuEventDestroy_v2);
  loader.Require("cuEventRecord", &api->cuEventRecord);
  loader.Require("cuEventElapsedTime", &api->cuEventElapsedTime);
  loader.Require("cuModuleLoadData", &api->cuModuleLoadData);
  loader.Require("cuModuleUnload", &api->cuModuleUnload);
  loader.Require("cuModuleGetFunction", &api->cuModuleGetFunction);
  loader.Require("cuLaunchKernel", &api->cuLaunchKernel);
  return loader.Finish(library);
}

Status ResolveNvrtcSymbols(void* handle, const std::string& library, CudaApi* api) {
  SymbolLoader loader(handle);
  loader.Require("nvrtcGetErrorString", &api->nvrtcGetErrorString);
  loader.Require("nvrtcVersion", &api->nvrtcVersion);
  loader.Require("nvrtcCreateProgram", &api->nvrtcCreateProgram);
  loader.Require("nvrtcDestroyProgram", &api->nvrtcDestroyProgram);
  loader.Require("nvrtcCompileProgram", &api->nvrtcCompileProgram);
  loader.Require("nvrtcGetProgramLogSize", &api->nvrtcGetProgramLogSize);
  loader.Require("nvrtcGetProgramLog", &api->nvrtcGetProgramLog);
  loader.Require("nvrtcGetPTXSize", &api->nvrtcGetPTXSize);
  loader.Require("nvrtcGetPTX", &api->nvrtcGetPTX);
  // Optional: absent from older NVRTCs, which then fall back to PTX for the newest arch
  // they know.
  LoadSymbol(handle, "nvrtcGetCUBINSize", &api->nvrtcGetCUBINSize);
  LoadSymbol(handle, "nvrtcGetCUBIN", &api->nvrtcGetCUBIN);
  LoadSymbol(handle, "nvrtcGetNumSupportedArchs", &api->nvrtcGetNumSupportedArchs);
  LoadSymbol(handle, "nvrtcGetSupportedArchs", &api->nvrtcGetSupportedArchs);
  return loader.Finish(library);
}

// Clears every NVRTC pointer so that has_nvrtc() is false after a partial resolution.
void ClearNvrtc(CudaApi* api, std::string reason) {
  CudaApi cleared;
  api->nvrtcGetErrorString = cleared.nvrtcGetErrorString;
  api->nvrtcVersion = cleared.nvrtcVersion;
  api->nvrtcCreateProgram = cleared.nvrtcCreateProgram;
  api->nvrtcDestroyProgram = cleared.nvrtcDestroyProgram;
  api->nvrtcCompileProgram = cleared.nvrtcCompileProgram;
  api->nvrtcGetProgramLogSize = cleared.nvrtcGetProgramLogSize;
  api->nvrtcGetProgramLog = cleared.nvrtcGetProgramLog;
  api->nvrtcGetPTXSize = cleared.nvrtcGetPTXSize;
  api->nvrtcGetPTX = cleared.nvrtcGetPTX;
  api->nvrtcGetCUBINSize = cleared.nvrtcGetCUBINSize;
  api->nvrtcGetCUBIN = cleared.nvrtcGetCUBIN;
  api->nvrtcGetNumSupportedArchs = cleared.nvrtcGetNumSupportedArchs;
  api->nvrtcGetSupportedArchs = cleared.nvrtcGetSupportedArchs;
  api->nvrtc_handle.reset();
  api->nvrtc_library.clear();
  api->nvrtc_error = std::move(reason);
}

// NVRTC is optional: without it devices still allocate, copy and run cached kernels.
void LoadNvrtc(const std::vector<std::string>& names, CudaApi* api) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary(names);
  if (!opened.ok()) return ClearNvrtc(api, opened.status().message());
  api->nvrtc_library = opened->name;
  api->nvrtc_handle = std::move(opened->handle);
  Status resolved = ResolveNvrtcSymbols(api->nvrtc_handle.get(), api->nvrtc_library, api);
  if (!resolved.ok()) return ClearNvrtc(api, resolved.message());
  if (api->nvrtcVersion(&api->nvrtc_major, &api->nvrtc_minor) != kNvrtcSuccess) {
    return ClearNvrtc(api, api->nvrtc_library + ": nvrtcVersion failed");
  }
}

struct StatusCodeFor {
  int code;
  StatusCode status;
};

constexpr StatusCodeFor kCudaStatusCodes[] = {
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

constexpr StatusCodeFor kNvrtcStatusCodes[] = {
    {kNvrtcErrorOutOfMemory, StatusCode::kResourceExhausted},
    {kNvrtcErrorInvalidInput, StatusCode::kInvalidArgument},
    {kNvrtcErrorInvalidOption, StatusCode::kInvalidArgument},
    {kNvrtcErrorCompilation, StatusCode::kInvalidArgument},
    {kNvrtcErrorBuiltinOperationFailure, StatusCode::kUnavailable},
};

template <size_t N>
StatusCode MapCode(const StatusCodeFor (&table)[N], int code) {
  for (const StatusCodeFor& entry : table) {
    if (entry.code == code) return entry.status;
  }
  return StatusCode::kInternal;
}

// "<what>: CUDA_ERROR_X (n): description", with whatever names `api` can give.
Status CudaError(const CudaApi* api, CUresult r, const char* what) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api != nullptr && api->cuGetErrorName != nullptr) api->cuGetErrorName(r, &name);
  if (api != nullptr && api->cuGetErrorString != nullptr) api->cuGetErrorString(r, &text);
  std::string message = std::string(what) + ": " + (name ? name : "CUDA error") + " (" +
                        std::to_string(static_cast<int>(r)) + ")";
  if (text != nullptr) message += std::string(": ") + text;
  return Status(MapCode(kCudaStatusCodes, static_cast<int>(r)), std::move(message));
}

StatusOr<std::unique_ptr<CudaApi>> LoadDriver(const std::string& name) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary({name}));
  auto api = std::make_unique<CudaApi>();
  api->driver_library = opened.name;
  api->driver_handle = std::move(opened.handle);
  PB_RETURN_IF_ERROR(ResolveDriverSymbols(api->driver_handle.get(), name, api.get()));
  return api;
}

}  // namespace

StatusOr<std::unique_ptr<CudaApi>> LoadCudaApiFrom(const CudaLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<CudaApi> api, LoadDriver(names.driver));
  // Every failure of cuInit means "no usable CUDA here", whatever the code.
  if (CUresult r = api->cuInit(0); r != kCudaSuccess) {
    return Unavailable(CudaError(api.get(), r, "cuInit").message());
  }
  if (CUresult r = api->cuDriverGetVersion(&api->driver_version); r != kCudaSuccess) {
    return Unavailable(CudaError(api.get(), r, "cuDriverGetVersion").message());
  }
  LoadNvrtc(names.nvrtc, api.get());
  return api;
}

StatusOr<const CudaApi*> LoadCudaApi() {
  // Deliberately leaked, like DeviceRegistry::Global(): devices that outlive static
  // destruction may still call into the driver.
  static const StatusOr<const CudaApi*>* const loaded = [] {
    StatusOr<std::unique_ptr<CudaApi>> api = LoadCudaApiFrom(CudaLibraryNames{});
    if (!api.ok()) return new StatusOr<const CudaApi*>(api.status());
    const CudaApi* table = std::move(api).value().release();
    g_process_api.store(table);
    return new StatusOr<const CudaApi*>(table);
  }();
  return *loaded;
}

Status CudaCheck(CUresult r, const char* what) {
  if (r == kCudaSuccess) return Status::Ok();
  return CudaError(g_process_api.load(), r, what);
}

Status NvrtcCheck(nvrtcResult r, const char* what) {
  if (r == kNvrtcSuccess) return Status::Ok();
  const CudaApi* api = g_process_api.load();
  const char* name = api != nullptr && api->nvrtcGetErrorString != nullptr
                         ? api->nvrtcGetErrorString(r)
                         : nullptr;
  return Status(MapCode(kNvrtcStatusCodes, static_cast<int>(r)),
                std::string(what) + ": " + (name ? name : "NVRTC error") + " (" +
                    std::to_string(static_cast<int>(r)) + ")");
}

}  // namespace petabox
