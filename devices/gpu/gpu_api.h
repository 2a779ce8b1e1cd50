// The table of GPU driver entry points the one GPU backend (devices/gpu) runs on. A vendor's
// loader (cuda_api.cc for NVIDIA: libcuda.so.1 + NVRTC; hip_api.cc for AMD: libamdhip64 +
// hiprtc) fills the fields with dlsym, so cuMemAlloc_v2 or hipMalloc sits behind one field,
// mem_alloc. Building needs no vendor headers: the fields are declared with neutral types
// that are ABI-compatible with both vendors' C prototypes on 64-bit hosts (enums as int;
// CUdeviceptr, a 64-bit integer, is passed exactly like hipDeviceptr_t, a pointer), checked
// against the real headers by tests/devices/gpu/{cuda,hip}_abi_check.cpp.
//
// The few operations whose shape differs between the vendors (contexts and peers, error
// names, the device's compiler target) are virtual; each vendor's subclass implements them
// over entry points of its own. Everything else (allocator, program, compiler, device) is
// written once against this table. A loaded table is immutable; share it between threads.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "devices/dynamic_library.h"
#include "engine/util/status.h"

namespace petabox {

static_assert(sizeof(void*) == 8, "the GPU table's neutral types assume a 64-bit host");

using GpuResult = int;                       // CUresult, hipError_t
using GpuDevicePtr = void*;                  // CUdeviceptr, hipDeviceptr_t
using GpuDriverContext = struct GpuCtx_*;    // CUcontext; null on HIP (no explicit contexts)
using GpuStream = struct GpuStream_*;        // CUstream, hipStream_t
using GpuEvent = struct GpuEvent_*;          // CUevent, hipEvent_t
using GpuModule = struct GpuModule_*;        // CUmodule, hipModule_t
using GpuFunction = struct GpuFunction_*;    // CUfunction, hipFunction_t
using RtcResult = int;                       // nvrtcResult, hiprtcResult
using RtcProgram = struct RtcProgram_*;      // nvrtcProgram, hiprtcProgram

// What the driver knows a device by: the process-wide ordinal, the driver's device handle
// (equal to the ordinal on HIP) and, on CUDA, the retained primary context.
struct GpuPlace {
  int ordinal = 0;
  int device = 0;
  GpuDriverContext context = nullptr;
};

// A vendor result code and the StatusCode it maps to.
struct GpuErrorClass {
  int code;
  StatusCode status;
};

// The result codes the shared backend tells apart, as the vendor numbers them.
struct GpuErrorCodes {
  int success = 0;
  int out_of_memory = 2;
  int not_found = 500;
  int function_missing = 500;  // what module_function answers for a missing name
  int peer_access_already_enabled = 704;
  int rtc_compilation = 6;     // the RTC's "the source does not compile"
};

struct GpuCompilerOptions {
  // Root of the on-disk cache; binaries live in <cache_dir>/<api.cache_subdir>/. Empty means
  // DefaultCacheDir() (devices/cpu/cpu_compiler.h).
  std::string cache_dir;
  // Approximate division, square root and transcendentals (NVRTC --use_fast_math, hiprtc
  // -ffast-math). Off by default so results follow IEEE-754 like the CPU backend.
  bool fast_math = false;
  // More RTC options, appended after the defaults. Part of the cache key.
  std::vector<std::string> extra_flags;
};

// What the RTC is asked to produce for a device.
struct RtcTarget {
  std::string arch;                  // "sm_90", "compute_90" (PTX), "gfx1100"
  bool machine_code = true;          // false: NVIDIA PTX, compiled by the driver at load
  std::vector<std::string> options;  // the full RTC command line, arch first
};

class GpuApi {
 public:
  virtual ~GpuApi() = default;

  // --- What the vendor is: data its loader sets. ---
  std::string kind;          // device kind, "CUDA" or "HIP": devices are "<kind>:<ordinal>"
  std::string dialect;       // renderer dialect of its kernels: "cuda", "hip"
  std::string rtc_name;      // "NVRTC", "hiprtc"
  std::string source_name;   // file name the RTC gives kernels in its log: "petabox_kernel.cu"
  std::string cache_subdir;  // "cuda", "hip"
  std::string cache_suffix;  // ".bin", ".hsaco"
  int attribute_multiprocessor_count = 0;  // device_attribute numbers
  int attribute_warp_size = 0;
  unsigned stream_non_blocking = 1;  // stream_create flag: no sync with the legacy stream
  unsigned event_default = 0;
  GpuErrorCodes codes;
  std::span<const GpuErrorClass> error_classes;  // result code -> StatusCode (else Internal)
  std::span<const GpuErrorClass> rtc_error_classes;

  // --- Runtime entry points. Non-null in a loaded table unless marked optional. The
  // comment names the CUDA driver API / HIP runtime symbol bound to each. ---
  GpuResult (*init)(unsigned flags) = nullptr;                    // cuInit / hipInit
  GpuResult (*driver_version)(int* version) = nullptr;            // cuDriverGetVersion / hipDriverGetVersion
  GpuResult (*device_count)(int* count) = nullptr;                // cuDeviceGetCount / hipGetDeviceCount
  GpuResult (*device_get)(int* device, int ordinal) = nullptr;    // cuDeviceGet / hipDeviceGet
  GpuResult (*device_name)(char* name, int length, int device) = nullptr;  // cu/hipDeviceGetName
  GpuResult (*device_attribute)(int* value, int attribute, int device) = nullptr;  // cu/hipDeviceGetAttribute
  GpuResult (*pci_bus_id)(char* id, int length, int device) = nullptr;  // cu/hipDeviceGetPCIBusId
  GpuResult (*total_mem)(size_t* bytes, int device) = nullptr;    // cuDeviceTotalMem_v2 / hipDeviceTotalMem
  GpuResult (*can_access_peer)(int* can, int device, int peer) = nullptr;  // cu/hipDeviceCanAccessPeer
  GpuResult (*mem_get_info)(size_t* free_bytes, size_t* total) = nullptr;  // cuMemGetInfo_v2 / hipMemGetInfo
  GpuResult (*mem_alloc)(GpuDevicePtr* ptr, size_t bytes) = nullptr;      // cuMemAlloc_v2 / hipMalloc
  GpuResult (*mem_free)(GpuDevicePtr ptr) = nullptr;                       // cuMemFree_v2 / hipFree
  // Pinned host memory; optional (HIP may drop these deprecated names): copies are then
  // pageable. cuMemHostAlloc / hipHostMalloc, and cuMemFreeHost / hipHostFree.
  GpuResult (*host_alloc)(void** ptr, size_t bytes, unsigned flags) = nullptr;
  GpuResult (*host_free)(void* ptr) = nullptr;
  GpuResult (*memcpy_htod_async)(GpuDevicePtr dst, const void* src, size_t bytes,
                                 GpuStream stream) = nullptr;  // cuMemcpyHtoDAsync_v2 / hipMemcpyHtoDAsync
  GpuResult (*memcpy_dtoh_async)(void* dst, GpuDevicePtr src, size_t bytes,
                                 GpuStream stream) = nullptr;  // cuMemcpyDtoHAsync_v2 / hipMemcpyDtoHAsync
  GpuResult (*memcpy_dtod_async)(GpuDevicePtr dst, GpuDevicePtr src, size_t bytes,
                                 GpuStream stream) = nullptr;  // cuMemcpyDtoDAsync_v2 / hipMemcpyDtoDAsync
  GpuResult (*stream_create)(GpuStream* stream, unsigned flags) = nullptr;  // cuStreamCreate / hipStreamCreateWithFlags
  GpuResult (*stream_destroy)(GpuStream stream) = nullptr;      // cuStreamDestroy_v2 / hipStreamDestroy
  GpuResult (*stream_synchronize)(GpuStream stream) = nullptr;  // cu/hipStreamSynchronize
  GpuResult (*event_create)(GpuEvent* event, unsigned flags) = nullptr;  // cuEventCreate / hipEventCreateWithFlags
  GpuResult (*event_destroy)(GpuEvent event) = nullptr;         // cuEventDestroy_v2 / hipEventDestroy
  GpuResult (*event_record)(GpuEvent event, GpuStream stream) = nullptr;  // cu/hipEventRecord
  GpuResult (*event_elapsed)(float* ms, GpuEvent start, GpuEvent stop) = nullptr;  // cu/hipEventElapsedTime
  GpuResult (*module_load)(GpuModule* module, const void* image) = nullptr;  // cu/hipModuleLoadData
  GpuResult (*module_unload)(GpuModule module) = nullptr;       // cu/hipModuleUnload
  GpuResult (*module_function)(GpuFunction* function, GpuModule module,
                               const char* name) = nullptr;     // cu/hipModuleGetFunction
  GpuResult (*launch_kernel)(GpuFunction function, unsigned grid_x, unsigned grid_y,
                             unsigned grid_z, unsigned block_x, unsigned block_y,
                             unsigned block_z, unsigned shared_bytes, GpuStream stream,
                             void** params, void** extra) = nullptr;  // cuLaunchKernel / hipModuleLaunchKernel
  // Optional: raises a kernel's dynamic shared memory limit above 48 KiB (cuFuncSetAttribute
  // with attribute_max_dynamic_shared). Null on HIP, whose kernels need no opt-in.
  GpuResult (*func_set_attribute)(GpuFunction function, int attribute, int value) = nullptr;
  int attribute_max_dynamic_shared = 0;

  // --- The runtime compiler (NVRTC, hiprtc). All null when has_rtc() is false (rtc_error
  // says why). ---
  const char* (*rtc_error_string)(RtcResult result) = nullptr;
  RtcResult (*rtc_version)(int* major, int* minor) = nullptr;
  RtcResult (*rtc_create_program)(RtcProgram* program, const char* source, const char* name,
                                  int num_headers, const char* const* headers,
                                  const char* const* include_names) = nullptr;
  RtcResult (*rtc_destroy_program)(RtcProgram* program) = nullptr;
  RtcResult (*rtc_compile_program)(RtcProgram program, int num_options,
                                   const char* const* options) = nullptr;
  RtcResult (*rtc_log_size)(RtcProgram program, size_t* size) = nullptr;
  RtcResult (*rtc_log)(RtcProgram program, char* log) = nullptr;
  // Machine code: nvrtcGetCUBIN (optional, NVRTC 11.1+) / hiprtcGetCode.
  RtcResult (*rtc_code_size)(RtcProgram program, size_t* size) = nullptr;
  RtcResult (*rtc_code)(RtcProgram program, char* code) = nullptr;
  // NVIDIA's PTX (nvrtcGetPTX), for targets the RTC cannot emit machine code for; null on HIP.
  RtcResult (*rtc_ptx_size)(RtcProgram program, size_t* size) = nullptr;
  RtcResult (*rtc_ptx)(RtcProgram program, char* ptx) = nullptr;

  int driver_version_number = 0;  // driver_version(), e.g. 13000 for CUDA 13.0
  int rtc_major = 0;              // rtc_version(); 0 without an RTC
  int rtc_minor = 0;
  std::string runtime_library;    // the name the runtime was opened under
  std::string rtc_library;        // where the RTC was found; empty without one
  std::string rtc_error;          // why the RTC is absent; empty when present
  // The libraries stay open as long as the table exists (rtc_handle is null when the RTC
  // lives in the runtime library itself).
  DlHandle runtime_handle;
  DlHandle rtc_handle;

  bool has_rtc() const { return rtc_compile_program != nullptr; }
  bool has_machine_code() const { return rtc_code != nullptr && rtc_code_size != nullptr; }
  bool has_pinned_memory() const { return host_alloc != nullptr && host_free != nullptr; }

  // --- Where the vendors differ. ---
  // The vendor's name and description of a result code; null when it has none.
  virtual const char* ErrorName(GpuResult r) const = 0;
  virtual const char* ErrorText(GpuResult r) const = 0;
  // The RTC's name for a result code; null when it has none.
  virtual const char* RtcErrorName(RtcResult r) const;
  // Opens device `ordinal` into `place` (CUDA: cuDeviceGet, retains the primary context;
  // HIP: hipDeviceGet). Errors as Check reports them.
  virtual Status OpenDevice(int ordinal, GpuPlace* place) const = 0;
  // Releases what OpenDevice took. Errors are ignored (called from destructors).
  virtual void CloseDevice(const GpuPlace& place) const = 0;
  // Makes `place` the calling thread's current device (cuCtxSetCurrent / hipSetDevice).
  virtual Status MakeCurrent(const GpuPlace& place) const = 0;
  // Lets the current device read and write `peer`'s memory (cuCtxEnablePeerAccess /
  // hipDeviceEnablePeerAccess); returns the raw code, so "already enabled" can be told apart.
  virtual GpuResult EnablePeerAccess(const GpuPlace& peer) const = 0;
  // cuMemcpyPeerAsync / hipMemcpyPeerAsync.
  virtual GpuResult CopyPeerAsync(GpuDevicePtr dst, const GpuPlace& dst_place, GpuDevicePtr src,
                                  const GpuPlace& src_place, size_t bytes,
                                  GpuStream stream) const = 0;
  // The compiler target of the device: `arch` as the engine names it ("sm_90", "gfx1100")
  // and `arch_name` as the driver does (HIP's gcnArchName keeps its target features).
  virtual Status ReadArch(const GpuPlace& place, std::string* arch,
                          std::string* arch_name) const = 0;
  // What the RTC is asked for to compile for a device of `arch`.
  virtual RtcTarget CompileTarget(const std::string& arch,
                                  const GpuCompilerOptions& options) const = 0;

  // OK when r is success; otherwise "<what>: <name> (<code>): <description>" with the
  // vendor's strings (the kind's "CUDA error" when it has none; the description once when
  // it only repeats the name), mapped through error_classes (Internal when unlisted).
  Status Check(GpuResult r, const char* what) const;
  // Likewise for the RTC: "<what>: <name> (<code>)".
  Status RtcCheck(RtcResult r, const char* what) const;
};

// Helpers for the vendors' loaders. An RTC is optional (without one devices still
// allocate, copy and run cached kernels), so its loading never fails the table:
// RequireRtc asks `loader` for the seven entry points NVRTC and hiprtc share, named by
// `symbols` in field order (rtc_error_string .. rtc_log); FinishRtc then records
// `library` and reads the version, or, when `resolved` failed or the version cannot be
// read, clears every RTC field and sets rtc_error (ClearRtc).
void RequireRtc(SymbolLoader& loader, const char* const (&symbols)[7], GpuApi* api);
void FinishRtc(const Status& resolved, std::string library, GpuApi* api);
void ClearRtc(GpuApi* api, std::string reason);

}  // namespace petabox
