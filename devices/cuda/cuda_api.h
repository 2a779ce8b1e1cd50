// The CUDA driver API (libcuda.so.1) and NVRTC, loaded at run time with dlopen so that one
// binary runs on machines with and without an NVIDIA driver. Building needs no CUDA
// headers: the few types and functions the CUDA backend uses are declared here with the
// C signatures of cuda.h and nvrtc.h (tests/devices/cuda/cuda_abi_check.cpp compares them
// with the real headers on a machine that has them).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "devices/cuda/dynamic_library.h"
#include "engine/util/status.h"

#ifdef PETABOX_CUDA_ABI_CHECK
#include <cuda.h>
#include <nvrtc.h>
#endif

namespace petabox {

#ifdef PETABOX_CUDA_ABI_CHECK
// The ABI check compiles this header against the real cuda.h/nvrtc.h types.
using CUresult = ::CUresult;
using CUdevice = ::CUdevice;
using CUdeviceptr = ::CUdeviceptr;
using CUdevice_attribute = ::CUdevice_attribute;
using CUcontext = ::CUcontext;
using CUmodule = ::CUmodule;
using CUfunction = ::CUfunction;
using CUstream = ::CUstream;
using CUevent = ::CUevent;
using nvrtcResult = ::nvrtcResult;
using nvrtcProgram = ::nvrtcProgram;
#else
// Driver API types, ABI-compatible with cuda.h (enums are passed as int).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;  // cuda.h's CUdeviceptr_v2 on 64-bit hosts
using CUdevice_attribute = int;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;
// NVRTC types, ABI-compatible with nvrtc.h.
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
#endif

// The CUresult codes the backend tells apart (cuda.h's cudaError_enum).
inline constexpr int kCudaSuccess = 0;
inline constexpr int kCudaErrorInvalidValue = 1;
inline constexpr int kCudaErrorOutOfMemory = 2;
inline constexpr int kCudaErrorNotInitialized = 3;
inline constexpr int kCudaErrorDeinitialized = 4;
inline constexpr int kCudaErrorStubLibrary = 34;  // libcuda.so.1 found is the toolkit's stub
inline constexpr int kCudaErrorDeviceUnavailable = 46;  // e.g. exclusive-process mode, in use
inline constexpr int kCudaErrorNoDevice = 100;
inline constexpr int kCudaErrorInvalidDevice = 101;
inline constexpr int kCudaErrorInvalidImage = 200;
inline constexpr int kCudaErrorNoBinaryForGpu = 209;
inline constexpr int kCudaErrorInvalidPtx = 218;
inline constexpr int kCudaErrorUnsupportedPtxVersion = 222;
inline constexpr int kCudaErrorNotFound = 500;
inline constexpr int kCudaErrorPeerAccessAlreadyEnabled = 704;
inline constexpr int kCudaErrorSystemDriverMismatch = 803;

// CUdevice_attribute values.
inline constexpr int kCuDeviceAttributeMultiprocessorCount = 16;
inline constexpr int kCuDeviceAttributeComputeCapabilityMajor = 75;
inline constexpr int kCuDeviceAttributeComputeCapabilityMinor = 76;

// Flags.
inline constexpr unsigned kCuStreamNonBlocking = 1;  // CU_STREAM_NON_BLOCKING
inline constexpr unsigned kCuEventDefault = 0;       // CU_EVENT_DEFAULT

// nvrtcResult codes.
inline constexpr int kNvrtcSuccess = 0;
inline constexpr int kNvrtcErrorOutOfMemory = 1;
inline constexpr int kNvrtcErrorInvalidInput = 3;
inline constexpr int kNvrtcErrorInvalidOption = 5;
inline constexpr int kNvrtcErrorCompilation = 6;
inline constexpr int kNvrtcErrorBuiltinOperationFailure = 7;

// The entry points of the driver API and NVRTC that the CUDA backend uses, resolved with
// dlsym. Member names are the exported symbol names (hence the _v2 suffixes, which is
// what cuda.h's macros map the plain names to). Immutable once loaded; safe to share
// between threads.
struct CudaApi {
  // --- Driver API (libcuda.so.1). All non-null in a loaded table. ---
  CUresult (*cuInit)(unsigned int flags) = nullptr;
  CUresult (*cuDriverGetVersion)(int* version) = nullptr;
  CUresult (*cuGetErrorName)(CUresult error, const char** name) = nullptr;
  CUresult (*cuGetErrorString)(CUresult error, const char** text) = nullptr;
  CUresult (*cuDeviceGetCount)(int* count) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetName)(char* name, int length, CUdevice device) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int* value, CUdevice_attribute attribute,
                                   CUdevice device) = nullptr;
  CUresult (*cuDeviceGetPCIBusId)(char* pci_bus_id, int length, CUdevice device) = nullptr;
  CUresult (*cuDeviceTotalMem_v2)(size_t* bytes, CUdevice device) = nullptr;
  CUresult (*cuDeviceCanAccessPeer)(int* can_access, CUdevice device, CUdevice peer) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* context, CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice device) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext context) = nullptr;
  CUresult (*cuCtxEnablePeerAccess)(CUcontext peer, unsigned int flags) = nullptr;
  CUresult (*cuMemGetInfo_v2)(size_t* free_bytes, size_t* total_bytes) = nullptr;
  CUresult (*cuMemAlloc_v2)(CUdeviceptr* ptr, size_t bytes) = nullptr;
  CUresult (*cuMemFree_v2)(CUdeviceptr ptr) = nullptr;
  CUresult (*cuMemAllocHost_v2)(void** ptr, size_t bytes) = nullptr;
  CUresult (*cuMemFreeHost)(void* ptr) = nullptr;
  CUresult (*cuMemcpyHtoDAsync_v2)(CUdeviceptr dst, const void* src, size_t bytes,
                                   CUstream stream) = nullptr;
  CUresult (*cuMemcpyDtoHAsync_v2)(void* dst, CUdeviceptr src, size_t bytes,
                                   CUstream stream) = nullptr;
  CUresult (*cuMemcpyDtoDAsync_v2)(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                                   CUstream stream) = nullptr;
  CUresult (*cuMemcpyPeerAsync)(CUdeviceptr dst, CUcontext dst_context, CUdeviceptr src,
                                CUcontext src_context, size_t bytes, CUstream stream) = nullptr;
  CUresult (*cuStreamCreate)(CUstream* stream, unsigned int flags) = nullptr;
  CUresult (*cuStreamDestroy_v2)(CUstream stream) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream stream) = nullptr;
  CUresult (*cuEventCreate)(CUevent* event, unsigned int flags) = nullptr;
  CUresult (*cuEventDestroy_v2)(CUevent event) = nullptr;
  CUresult (*cuEventRecord)(CUevent event, CUstream stream) = nullptr;
  CUresult (*cuEventElapsedTime)(float* milliseconds, CUevent start, CUevent end) = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction* function, CUmodule module,
                                  const char* name) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned int grid_x, unsigned int grid_y,
                             unsigned int grid_z, unsigned int block_x, unsigned int block_y,
                             unsigned int block_z, unsigned int shared_bytes, CUstream stream,
                             void** params, void** extra) = nullptr;

  // --- NVRTC. All null when has_nvrtc() is false (nvrtc_error says why). The CUBIN
  // getters are null before NVRTC 11.1 and the supported-arch queries before 11.2. ---
  const char* (*nvrtcGetErrorString)(nvrtcResult result) = nullptr;
  nvrtcResult (*nvrtcVersion)(int* major, int* minor) = nullptr;
  nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram* program, const char* source, const char* name,
                                    int num_headers, const char* const* headers,
                                    const char* const* include_names) = nullptr;
  nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram* program) = nullptr;
  nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram program, int num_options,
                                     const char* const* options) = nullptr;
  nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram program, size_t* size) = nullptr;
  nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram program, char* log) = nullptr;
  nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram program, size_t* size) = nullptr;
  nvrtcResult (*nvrtcGetPTX)(nvrtcProgram program, char* ptx) = nullptr;
  nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram program, size_t* size) = nullptr;  // optional
  nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram program, char* cubin) = nullptr;       // optional
  nvrtcResult (*nvrtcGetNumSupportedArchs)(int* count) = nullptr;                   // optional
  nvrtcResult (*nvrtcGetSupportedArchs)(int* archs) = nullptr;                      // optional

  int driver_version = 0;  // cuDriverGetVersion, e.g. 13000 for CUDA 13.0
  int nvrtc_major = 0;     // nvrtcVersion; 0 without NVRTC
  int nvrtc_minor = 0;
  std::string driver_library;  // the name libcuda was opened under
  std::string nvrtc_library;   // the name NVRTC was opened under; empty without NVRTC
  std::string nvrtc_error;     // why NVRTC is absent; empty when present

  bool has_nvrtc() const { return nvrtcCompileProgram != nullptr; }
  bool has_cubin() const { return nvrtcGetCUBIN != nullptr && nvrtcGetCUBINSize != nullptr; }

  // The libraries stay open as long as the table exists.
  DlHandle driver_handle;
  DlHandle nvrtc_handle;
};

// Where LoadCudaApiFrom looks for the libraries.
struct CudaLibraryNames {
  // The driver API library (dlopen name or path).
  std::string driver = "libcuda.so.1";
  // NVRTC candidates, tried in order; the first that loads wins.
  std::vector<std::string> nvrtc = {
      "libnvrtc.so",
      "libnvrtc.so.13",
      "libnvrtc.so.12",
      "libnvrtc.so.11.2",
      "/usr/local/cuda/lib64/libnvrtc.so",
      "/usr/local/cuda/lib64/libnvrtc.so.13",
      "/usr/local/cuda/lib64/libnvrtc.so.12",
      "/usr/local/cuda/lib64/libnvrtc.so.11.2",
  };
};

// Loads the driver API and NVRTC into a new table and calls cuInit(0). Never crashes:
// Unavailable("<driver> not found: <dlerror>") when the driver library cannot be opened,
// Unavailable naming the missing symbols when it lacks one, Unavailable with the driver's
// error when cuInit fails (no device, driver too old). A missing or incomplete NVRTC is
// not an error: the table then has has_nvrtc() false and nvrtc_error set, and only
// compiling fails. Thread-safe.
StatusOr<std::unique_ptr<CudaApi>> LoadCudaApiFrom(const CudaLibraryNames& names);

// The process's table, loaded with default CudaLibraryNames on the first call (which
// dlopens and calls cuInit; later calls return the same result at once). The table is
// never unloaded. Thread-safe.
StatusOr<const CudaApi*> LoadCudaApi();

// OK when r is CUDA_SUCCESS; otherwise a Status whose message is
// "<what>: <CUDA_ERROR_NAME> (<code>): <driver's description>", named and described by
// cuGetErrorName/cuGetErrorString of the process's table when it is loaded. The code maps
// to ResourceExhausted for out-of-memory, NotFound for not-found, Unavailable for
// no-device and driver-version errors, InvalidArgument for invalid values and images, and
// Internal otherwise.
Status CudaCheck(CUresult r, const char* what);

// Likewise for NVRTC: "<what>: <NVRTC_ERROR_NAME> (<code>)", ResourceExhausted for
// out-of-memory, InvalidArgument for bad input, options or source, Unavailable when
// NVRTC's builtins library is missing, Internal otherwise.
Status NvrtcCheck(nvrtcResult r, const char* what);

}  // namespace petabox
