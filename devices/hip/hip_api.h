// The HIP runtime (libamdhip64) and hiprtc, loaded at run time with dlopen so that one
// binary runs on machines with and without ROCm. Building needs no ROCm headers: the few
// types and functions the HIP backend uses are declared here with the C signatures of
// hip_runtime_api.h and hiprtc.h (tests/devices/hip/hip_abi_check.cpp compares them with
// the real headers; hip_abi_test runs it where the headers are installed).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "devices/cuda/dynamic_library.h"
#include "engine/util/status.h"

#ifdef PETABOX_HIP_ABI_CHECK
#include <hip/hip_runtime_api.h>
#include <hip/hiprtc.h>
#endif

namespace petabox {

#ifdef PETABOX_HIP_ABI_CHECK
// The ABI check compiles this header against the real hip_runtime_api.h/hiprtc.h types.
using HipError = ::hipError_t;
using HipDeviceHandle = ::hipDevice_t;
using HipDeviceAttribute = ::hipDeviceAttribute_t;
using HipDevicePtr = ::hipDeviceptr_t;
using HipStream = ::hipStream_t;
using HipEvent = ::hipEvent_t;
using HipModule = ::hipModule_t;
using HipFunction = ::hipFunction_t;
using HiprtcResult = ::hiprtcResult;
using HiprtcProgram = ::hiprtcProgram;
#else
// Runtime types, ABI-compatible with hip_runtime_api.h (enums are passed as int).
using HipError = int;
using HipDeviceHandle = int;
using HipDeviceAttribute = int;
using HipDevicePtr = void*;
using HipStream = struct ihipStream_t*;
using HipEvent = struct ihipEvent_t*;
using HipModule = struct ihipModule_t*;
using HipFunction = struct ihipModuleSymbol_t*;
// hiprtc types, ABI-compatible with hiprtc.h.
using HiprtcResult = int;
using HiprtcProgram = struct _hiprtcProgram*;
#endif

// The hipError_t codes the backend tells apart.
inline constexpr int kHipSuccess = 0;
inline constexpr int kHipErrorInvalidValue = 1;
inline constexpr int kHipErrorOutOfMemory = 2;
inline constexpr int kHipErrorNotInitialized = 3;
inline constexpr int kHipErrorDeinitialized = 4;
inline constexpr int kHipErrorInsufficientDriver = 35;
inline constexpr int kHipErrorInvalidDeviceFunction = 98;
inline constexpr int kHipErrorNoDevice = 100;
inline constexpr int kHipErrorInvalidDevice = 101;
inline constexpr int kHipErrorInvalidImage = 200;
inline constexpr int kHipErrorNoBinaryForGpu = 209;
inline constexpr int kHipErrorInvalidKernelFile = 218;
inline constexpr int kHipErrorNotFound = 500;
inline constexpr int kHipErrorPeerAccessAlreadyEnabled = 704;

// hipDeviceAttribute_t values. The CUDA-compatible block has had these numbers since
// ROCm 5 (ROCm 6 wrote them out explicitly; the AMD-specific gcnArch attributes of
// ROCm 5 became "unused" in 6, which is why the arch comes from the properties struct).
inline constexpr int kHipDeviceAttributeMaxThreadsPerBlock = 56;
inline constexpr int kHipDeviceAttributeMultiprocessorCount = 63;
inline constexpr int kHipDeviceAttributeWarpSize = 87;

// Flags.
inline constexpr unsigned kHipStreamNonBlocking = 1;  // hipStreamNonBlocking
inline constexpr unsigned kHipEventDefault = 0;       // hipEventDefault
inline constexpr unsigned kHipHostMallocDefault = 0;  // hipHostMallocDefault

// hiprtcResult codes.
inline constexpr int kHiprtcSuccess = 0;
inline constexpr int kHiprtcErrorOutOfMemory = 1;
inline constexpr int kHiprtcErrorProgramCreationFailure = 2;
inline constexpr int kHiprtcErrorInvalidInput = 3;
inline constexpr int kHiprtcErrorInvalidProgram = 4;
inline constexpr int kHiprtcErrorInvalidOption = 5;
inline constexpr int kHiprtcErrorCompilation = 6;
inline constexpr int kHiprtcErrorBuiltinOperationFailure = 7;

// Where gcnArchName ("gfx1100", or with target features "gfx90a:sramecc+:xnack-") sits in
// the two layouts of hipDeviceProp_t, and their sizes. hipGetDevicePropertiesR0600 (ROCm
// 6 and later) fills hipDeviceProp_tR0600; hipGetDeviceProperties of ROCm 5 (still
// exported by ROCm 6+ for old binaries) fills the older layout. Offsets measured with
// offsetof against ROCm 5.2's header (Debian 12) and ROCm 6's R0600 struct.
inline constexpr size_t kHipPropsR0600ArchOffset = 1160;
inline constexpr size_t kHipPropsR0600Size = 1472;
inline constexpr size_t kHipPropsR0000ArchOffset = 396;
inline constexpr size_t kHipPropsR0000Size = 792;
// The buffer handed to either call: larger than both, so a runtime whose struct grew at
// the end writes into slack instead of past the buffer.
inline constexpr size_t kHipPropsBufferSize = 8192;

// The entry points of the HIP runtime and hiprtc that the backend uses, resolved with
// dlsym. Immutable once loaded; safe to share between threads.
struct HipApi {
  // --- Runtime (libamdhip64). Non-null in a loaded table unless marked optional. ---
  HipError (*hipInit)(unsigned int flags) = nullptr;
  HipError (*hipDriverGetVersion)(int* version) = nullptr;
  HipError (*hipRuntimeGetVersion)(int* version) = nullptr;
  const char* (*hipGetErrorName)(HipError error) = nullptr;
  const char* (*hipGetErrorString)(HipError error) = nullptr;
  HipError (*hipGetDeviceCount)(int* count) = nullptr;
  HipError (*hipSetDevice)(int device) = nullptr;
  HipError (*hipDeviceGet)(HipDeviceHandle* device, int ordinal) = nullptr;
  HipError (*hipDeviceGetName)(char* name, int length, HipDeviceHandle device) = nullptr;
  HipError (*hipDeviceTotalMem)(size_t* bytes, HipDeviceHandle device) = nullptr;
  HipError (*hipDeviceGetAttribute)(int* value, HipDeviceAttribute attribute,
                                    int device) = nullptr;
  HipError (*hipDeviceGetPCIBusId)(char* pci_bus_id, int length, int device) = nullptr;
  // hipGetDevicePropertiesR0600 when the runtime has it (ROCm 6+), else the ROCm 5
  // hipGetDeviceProperties; props_r0600 says which. The struct is taken as raw bytes
  // (see kHipProps*): only gcnArchName is read from it.
  HipError (*hipGetDeviceProperties)(void* props, int device) = nullptr;
  bool props_r0600 = false;
  HipError (*hipDeviceCanAccessPeer)(int* can_access, int device, int peer) = nullptr;
  HipError (*hipDeviceEnablePeerAccess)(int peer, unsigned int flags) = nullptr;
  HipError (*hipMemGetInfo)(size_t* free_bytes, size_t* total_bytes) = nullptr;
  HipError (*hipMalloc)(void** ptr, size_t bytes) = nullptr;
  HipError (*hipFree)(void* ptr) = nullptr;
  // Optional (deprecated in newer ROCm): without them copies go from pageable memory.
  HipError (*hipHostMalloc)(void** ptr, size_t bytes, unsigned int flags) = nullptr;
  HipError (*hipHostFree)(void* ptr) = nullptr;
  HipError (*hipMemcpyHtoDAsync)(HipDevicePtr dst, void* src, size_t bytes,
                                 HipStream stream) = nullptr;
  HipError (*hipMemcpyDtoHAsync)(void* dst, HipDevicePtr src, size_t bytes,
                                 HipStream stream) = nullptr;
  HipError (*hipMemcpyDtoDAsync)(HipDevicePtr dst, HipDevicePtr src, size_t bytes,
                                 HipStream stream) = nullptr;
  HipError (*hipMemcpyPeerAsync)(void* dst, int dst_device, const void* src, int src_device,
                                 size_t bytes, HipStream stream) = nullptr;
  HipError (*hipStreamCreateWithFlags)(HipStream* stream, unsigned int flags) = nullptr;
  HipError (*hipStreamDestroy)(HipStream stream) = nullptr;
  HipError (*hipStreamSynchronize)(HipStream stream) = nullptr;
  HipError (*hipEventCreateWithFlags)(HipEvent* event, unsigned flags) = nullptr;
  HipError (*hipEventDestroy)(HipEvent event) = nullptr;
  HipError (*hipEventRecord)(HipEvent event, HipStream stream) = nullptr;
  HipError (*hipEventElapsedTime)(float* milliseconds, HipEvent start, HipEvent stop) = nullptr;
  HipError (*hipModuleLoadData)(HipModule* module, const void* image) = nullptr;
  HipError (*hipModuleUnload)(HipModule module) = nullptr;
  HipError (*hipModuleGetFunction)(HipFunction* function, HipModule module,
                                   const char* name) = nullptr;
  HipError (*hipModuleLaunchKernel)(HipFunction function, unsigned int grid_x,
                                    unsigned int grid_y, unsigned int grid_z,
                                    unsigned int block_x, unsigned int block_y,
                                    unsigned int block_z, unsigned int shared_bytes,
                                    HipStream stream, void** params, void** extra) = nullptr;

  // --- hiprtc. All null when has_hiprtc() is false (hiprtc_error says why). ---
  const char* (*hiprtcGetErrorString)(HiprtcResult result) = nullptr;
  HiprtcResult (*hiprtcVersion)(int* major, int* minor) = nullptr;
  HiprtcResult (*hiprtcCreateProgram)(HiprtcProgram* program, const char* source,
                                      const char* name, int num_headers,
                                      const char** headers, const char** include_names) = nullptr;
  HiprtcResult (*hiprtcDestroyProgram)(HiprtcProgram* program) = nullptr;
  HiprtcResult (*hiprtcCompileProgram)(HiprtcProgram program, int num_options,
                                       const char** options) = nullptr;
  HiprtcResult (*hiprtcGetProgramLogSize)(HiprtcProgram program, size_t* size) = nullptr;
  HiprtcResult (*hiprtcGetProgramLog)(HiprtcProgram program, char* log) = nullptr;
  HiprtcResult (*hiprtcGetCodeSize)(HiprtcProgram program, size_t* size) = nullptr;
  HiprtcResult (*hiprtcGetCode)(HiprtcProgram program, char* code) = nullptr;

  int driver_version = 0;   // hipDriverGetVersion
  int runtime_version = 0;  // hipRuntimeGetVersion, e.g. 50221153 for ROCm 5.2
  int hiprtc_major = 0;     // hiprtcVersion; 0 without hiprtc
  int hiprtc_minor = 0;
  std::string runtime_library;  // the name libamdhip64 was opened under
  std::string hiprtc_library;   // where hiprtc was found; empty without hiprtc
  std::string hiprtc_error;     // why hiprtc is absent; empty when present

  bool has_hiprtc() const { return hiprtcCompileProgram != nullptr; }
  bool has_pinned_memory() const { return hipHostMalloc != nullptr && hipHostFree != nullptr; }

  // The libraries stay open as long as the table exists. hiprtc_handle is null when
  // hiprtc lives in libamdhip64 itself (ROCm 5.2 and older).
  DlHandle runtime_handle;
  DlHandle hiprtc_handle;
};

// Where LoadHipApiFrom looks for the libraries; the first name that loads wins.
struct HipLibraryNames {
  std::vector<std::string> runtime = {
      "libamdhip64.so.7",
      "libamdhip64.so.6",
      "libamdhip64.so.5",
      "libamdhip64.so",
      "/opt/rocm/lib/libamdhip64.so.7",
      "/opt/rocm/lib/libamdhip64.so.6",
      "/opt/rocm/lib/libamdhip64.so.5",
      "/opt/rocm/lib/libamdhip64.so",
  };
  // Tried in order; when none loads, hiprtc is looked up in the runtime library itself
  // (before ROCm 5.3 hiprtc was part of libamdhip64).
  std::vector<std::string> hiprtc = {
      "libhiprtc.so.7",
      "libhiprtc.so.6",
      "libhiprtc.so.5",
      "libhiprtc.so",
      "/opt/rocm/lib/libhiprtc.so.7",
      "/opt/rocm/lib/libhiprtc.so.6",
      "/opt/rocm/lib/libhiprtc.so.5",
      "/opt/rocm/lib/libhiprtc.so",
  };
};

// Loads the HIP runtime and hiprtc into a new table and calls hipInit(0). Never crashes:
// Unavailable("libamdhip64.so.7 not found (tried ...): <dlerror>") when no runtime
// library opens, Unavailable naming the missing symbols when it lacks one, Unavailable
// with the runtime's error when hipInit fails (no AMD GPU, no amdgpu/KFD driver). A
// missing hiprtc is not an error: the table then has has_hiprtc() false and hiprtc_error
// set, and only compiling fails. Thread-safe.
StatusOr<std::unique_ptr<HipApi>> LoadHipApiFrom(const HipLibraryNames& names);

// Like LoadHipApiFrom but without hipInit: for compiling kernels (hiprtc) on a machine
// that has ROCm's libraries and no AMD GPU. Thread-safe.
StatusOr<std::unique_ptr<HipApi>> LoadHipLibrariesFrom(const HipLibraryNames& names);

// The process's table, loaded with default HipLibraryNames on the first call (which
// dlopens and calls hipInit; later calls return the same result at once). The table is
// never unloaded. Thread-safe.
StatusOr<const HipApi*> LoadHipApi();

// OK when r is hipSuccess; otherwise a Status whose message is
// "<what>: <hipErrorName> (<code>): <runtime's description>", named and described by
// hipGetErrorName/hipGetErrorString of the process's table when it is loaded. The code
// maps to ResourceExhausted for out-of-memory, NotFound for not-found, Unavailable for
// no-device and driver errors, InvalidArgument for invalid values, devices and images,
// and Internal otherwise.
Status HipCheck(HipError r, const char* what);
// The same with the names of `api` (tests pass a table of their own).
Status HipCheckWith(const HipApi* api, HipError r, const char* what);

// Likewise for hiprtc: "<what>: <HIPRTC_ERROR_NAME> (<code>)", ResourceExhausted for
// out-of-memory, InvalidArgument for bad input, options, programs or source, Unavailable
// when the builtins library is missing, Internal otherwise.
Status HiprtcCheck(HiprtcResult r, const char* what);
Status HiprtcCheckWith(const HipApi* api, HiprtcResult r, const char* what);

// The target name in a hipDeviceProp_t read as raw bytes (`props`, at least the layout's
// size): gcnArchName at `offset`, with target features cut off ("gfx90a:sramecc+:xnack-"
// gives "gfx90a"). Internal, naming what was read, when the field is not a gfx target
// (a runtime whose struct layout is not the one expected).
StatusOr<std::string> GcnArchFromProperties(std::string_view props, size_t offset);

}  // namespace petabox
