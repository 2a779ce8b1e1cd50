#include "devices/hip/hip_api.h"

#include <atomic>
#include <cstring>
#include <utility>

namespace petabox {
namespace {

// Set once LoadHipApi() has a table, so the check helpers can name error codes with the
// runtime's own strings. The loader itself formats errors with the table it is building.
std::atomic<const HipApi*> g_process_api{nullptr};

Status ResolveRuntimeSymbols(void* handle, const std::string& library, HipApi* api) {
  SymbolLoader loader(handle);
  loader.Require("hipInit", &api->hipInit);
  loader.Require("hipDriverGetVersion", &api->hipDriverGetVersion);
  loader.Require("hipRuntimeGetVersion", &api->hipRuntimeGetVersion);
  loader.Require("hipGetErrorName", &api->hipGetErrorName);
  loader.Require("hipGetErrorString", &api->hipGetErrorString);
  loader.Require("hipGetDeviceCount", &api->hipGetDeviceCount);
  loader.Require("hipSetDevice", &api->hipSetDevice);
  loader.Require("hipDeviceGet", &api->hipDeviceGet);
  loader.Require("hipDeviceGetName", &api->hipDeviceGetName);
  loader.Require("hipDeviceTotalMem", &api->hipDeviceTotalMem);
  loader.Require("hipDeviceGetAttribute", &api->hipDeviceGetAttribute);
  loader.Require("hipDeviceGetPCIBusId", &api->hipDeviceGetPCIBusId);
  loader.Require("hipDeviceCanAccessPeer", &api->hipDeviceCanAccessPeer);
  loader.Require("hipDeviceEnablePeerAccess", &api->hipDeviceEnablePeerAccess);
  loader.Require("hipMemGetInfo", &api->hipMemGetInfo);
  loader.Require("hipMalloc", &api->hipMalloc);
  loader.Require("hipFree", &api->hipFree);
  loader.Require("hipMemcpyHtoDAsync", &api->hipMemcpyHtoDAsync);
  loader.Require("hipMemcpyDtoHAsync", &api->hipMemcpyDtoHAsync);
  loader.Require("hipMemcpyDtoDAsync", &api->hipMemcpyDtoDAsync);
  loader.Require("hipMemcpyPeerAsync", &api->hipMemcpyPeerAsync);
  loader.Require("hipStreamCreateWithFlags", &api->hipStreamCreateWithFlags);
  loader.Require("hipStreamDestroy", &api->hipStreamDestroy);
  loader.Require("hipStreamSynchronize", &api->hipStreamSynchronize);
  loader.Require("hipEventCreateWithFlags", &api->hipEventCreateWithFlags);
  loader.Require("hipEventDestroy", &api->hipEventDestroy);
  loader.Require("hipEventRecord", &api->hipEventRecord);
  loader.Require("hipEventElapsedTime", &api->hipEventElapsedTime);
  loader.Require("hipModuleLoadData", &api->hipModuleLoadData);
  loader.Require("hipModuleUnload", &api->hipModuleUnload);
  loader.Require("hipModuleGetFunction", &api->hipModuleGetFunction);
  loader.Require("hipModuleLaunchKernel", &api->hipModuleLaunchKernel);
  // The R0600 entry point fills the layout of ROCm 6+; the plain name keeps the ROCm 5
  // layout in every version (ROCm 6 headers map the plain name to R0600 by macro).
  api->props_r0600 =
      LoadSymbol(handle, "hipGetDevicePropertiesR0600", &api->hipGetDeviceProperties);
  if (!api->props_r0600) loader.Require("hipGetDeviceProperties", &api->hipGetDeviceProperties);
  LoadSymbol(handle, "hipHostMalloc", &api->hipHostMalloc);
  LoadSymbol(handle, "hipHostFree", &api->hipHostFree);
  return loader.Finish(library);
}

Status ResolveHiprtcSymbols(void* handle, const std::string& library, HipApi* api) {
  SymbolLoader loader(handle);
  loader.Require("hiprtcGetErrorString", &api->hiprtcGetErrorString);
  loader.Require("hiprtcVersion", &api->hiprtcVersion);
  loader.Require("hiprtcCreateProgram", &api->hiprtcCreateProgram);
  loader.Require("hiprtcDestroyProgram", &api->hiprtcDestroyProgram);
  loader.Require("hiprtcCompileProgram", &api->hiprtcCompileProgram);
  loader.Require("hiprtcGetProgramLogSize", &api->hiprtcGetProgramLogSize);
  loader.Require("hiprtcGetProgramLog", &api->hiprtcGetProgramLog);
  loader.Require("hiprtcGetCodeSize", &api->hiprtcGetCodeSize);
  loader.Require("hiprtcGetCode", &api->hiprtcGetCode);
  return loader.Finish(library);
}

// Clears every hiprtc pointer so that has_hiprtc() is false after a partial resolution.
void ClearHiprtc(HipApi* api, std::string reason) {
  api->hiprtcGetErrorString = nullptr;
  api->hiprtcVersion = nullptr;
  api->hiprtcCreateProgram = nullptr;
  api->hiprtcDestroyProgram = nullptr;
  api->hiprtcCompileProgram = nullptr;
  api->hiprtcGetProgramLogSize = nullptr;
  api->hiprtcGetProgramLog = nullptr;
  api->hiprtcGetCodeSize = nullptr;
  api->hiprtcGetCode = nullptr;
  api->hiprtc_handle.reset();
  api->hiprtc_library.clear();
  api->hiprtc_error = std::move(reason);
}

// hiprtc is optional: without it devices still allocate, copy and run cached kernels.
// Its own library is preferred; ROCm 5.2 and older carry it inside libamdhip64.
void LoadHiprtc(const std::vector<std::string>& names, HipApi* api) {
  StatusOr<OpenedLibrary> opened = OpenFirstLibrary(names);
  void* handle = api->runtime_handle.get();
  std::string library = api->runtime_library + " (built-in hiprtc)";
  if (opened.ok()) {
    api->hiprtc_handle = std::move(opened->handle);
    handle = api->hiprtc_handle.get();
    library = opened->name;
  }
  if (Status resolved = ResolveHiprtcSymbols(handle, library, api); !resolved.ok()) {
    std::string why = resolved.message();
    if (!opened.ok()) why = opened.status().message() + "; " + why;
    return ClearHiprtc(api, std::move(why));
  }
  api->hiprtc_library = std::move(library);
  if (api->hiprtcVersion(&api->hiprtc_major, &api->hiprtc_minor) != kHiprtcSuccess) {
    return ClearHiprtc(api, api->hiprtc_library + ": hiprtcVersion failed");
  }
}

struct StatusCodeFor {
  int code;
  StatusCode status;
};

constexpr StatusCodeFor kHipStatusCodes[] = {
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

constexpr StatusCodeFor kHiprtcStatusCodes[] = {
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

template <size_t N>
StatusCode MapCode(const StatusCodeFor (&table)[N], int code) {
  for (const StatusCodeFor& entry : table) {
    if (entry.code == code) return entry.status;
  }
  return StatusCode::kInternal;
}

StatusOr<std::unique_ptr<HipApi>> LoadRuntime(const std::vector<std::string>& names) {
  PB_ASSIGN_OR_RETURN(OpenedLibrary opened, OpenFirstLibrary(names));
  auto api = std::make_unique<HipApi>();
  api->runtime_library = opened.name;
  api->runtime_handle = std::move(opened.handle);
  PB_RETURN_IF_ERROR(
      ResolveRuntimeSymbols(api->runtime_handle.get(), api->runtime_library, api.get()));
  return api;
}

}  // namespace

StatusOr<std::unique_ptr<HipApi>> LoadHipLibrariesFrom(const HipLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<HipApi> api, LoadRuntime(names.runtime));
  LoadHiprtc(names.hiprtc, api.get());
  return api;
}

StatusOr<std::unique_ptr<HipApi>> LoadHipApiFrom(const HipLibraryNames& names) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<HipApi> api, LoadRuntime(names.runtime));
  // Every failure of hipInit means "no usable HIP here", whatever the code.
  if (HipError r = api->hipInit(0); r != kHipSuccess) {
    return Unavailable(HipCheckWith(api.get(), r, "hipInit").message());
  }
  // Version queries are informational: a runtime that cannot answer them still works.
  (void)api->hipDriverGetVersion(&api->driver_version);
  (void)api->hipRuntimeGetVersion(&api->runtime_version);
  LoadHiprtc(names.hiprtc, api.get());
  return api;
}

StatusOr<const HipApi*> LoadHipApi() {
  // Deliberately leaked, like DeviceRegistry::Global(): devices that outlive static
  // destruction may still call into the runtime.
  static const StatusOr<const HipApi*>* const loaded = [] {
    StatusOr<std::unique_ptr<HipApi>> api = LoadHipApiFrom(HipLibraryNames{});
    if (!api.ok()) return new StatusOr<const HipApi*>(api.status());
    const HipApi* table = std::move(api).value().release();
    g_process_api.store(table);
    return new StatusOr<const HipApi*>(table);
  }();
  return *loaded;
}

Status HipCheckWith(const HipApi* api, HipError r, const char* what) {
  if (r == kHipSuccess) return Status::Ok();
  const char* name = api != nullptr && api->hipGetErrorName != nullptr
                         ? api->hipGetErrorName(r) : nullptr;
  const char* text = api != nullptr && api->hipGetErrorString != nullptr
                         ? api->hipGetErrorString(r) : nullptr;
  std::string message = std::string(what) + ": " + (name ? name : "HIP error") + " (" +
                        std::to_string(static_cast<int>(r)) + ")";
  // The runtime describes unknown codes with their name again; say it once.
  if (text != nullptr && (name == nullptr || std::strcmp(text, name) != 0)) {
    message += std::string(": ") + text;
  }
  return Status(MapCode(kHipStatusCodes, static_cast<int>(r)), std::move(message));
}

Status HipCheck(HipError r, const char* what) {
  return HipCheckWith(g_process_api.load(), r, what);
}

Status HiprtcCheckWith(const HipApi* api, HiprtcResult r, const char* what) {
  if (r == kHiprtcSuccess) return Status::Ok();
  const int code = static_cast<int>(r);
  const char* name = api != nullptr && api->hiprtcGetErrorString != nullptr
                         ? api->hiprtcGetErrorString(r) : nullptr;
  constexpr int kKnown = static_cast<int>(sizeof(kHiprtcErrorNames) / sizeof(kHiprtcErrorNames[0]));
  if (name == nullptr && code > 0 && code < kKnown) name = kHiprtcErrorNames[code];
  return Status(MapCode(kHiprtcStatusCodes, code), std::string(what) + ": " +
                                                       (name ? name : "hiprtc error") + " (" +
                                                       std::to_string(code) + ")");
}

Status HiprtcCheck(HiprtcResult r, const char* what) {
  return HiprtcCheckWith(g_process_api.load(), r, what);
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
