// NVIDIA's entry points for the GPU table: the CUDA driver API (libcuda.so.1) and NVRTC,
// loaded with dlopen (gpu_api.h says how the table is declared and checked).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "devices/gpu/gpu_api.h"

namespace petabox {

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
inline constexpr int kCuDeviceAttributeWarpSize = 10;
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

// The table for NVIDIA GPUs, plus the driver entry points only CUDA's context model and
// error naming use. Member names of those are the exported symbols.
class CudaApi : public GpuApi {
 public:
  CudaApi();

  GpuResult (*cuGetErrorName)(GpuResult error, const char** name) = nullptr;
  GpuResult (*cuGetErrorString)(GpuResult error, const char** text) = nullptr;
  GpuResult (*cuDevicePrimaryCtxRetain)(GpuDriverContext* context, int device) = nullptr;
  GpuResult (*cuDevicePrimaryCtxRelease_v2)(int device) = nullptr;
  GpuResult (*cuCtxSetCurrent)(GpuDriverContext context) = nullptr;
  GpuResult (*cuCtxEnablePeerAccess)(GpuDriverContext peer, unsigned flags) = nullptr;
  GpuResult (*cuMemcpyPeerAsync)(GpuDevicePtr dst, GpuDriverContext dst_context, GpuDevicePtr src,
                                 GpuDriverContext src_context, size_t bytes,
                                 GpuStream stream) = nullptr;
  // Optional (NVRTC 11.2+): the archs NVRTC can target.
  RtcResult (*nvrtcGetNumSupportedArchs)(int* count) = nullptr;
  RtcResult (*nvrtcGetSupportedArchs)(int* archs) = nullptr;

  const char* ErrorName(GpuResult r) const override;
  const char* ErrorText(GpuResult r) const override;
  Status OpenDevice(int ordinal, GpuPlace* place) const override;
  void CloseDevice(const GpuPlace& place) const override;
  Status MakeCurrent(const GpuPlace& place) const override;
  GpuResult EnablePeerAccess(const GpuPlace& peer) const override;
  GpuResult CopyPeerAsync(GpuDevicePtr dst, const GpuPlace& dst_place, GpuDevicePtr src,
                          const GpuPlace& src_place, size_t bytes, GpuStream stream) const override;
  // "sm_<major><minor>" from the compute capability, for both.
  Status ReadArch(const GpuPlace& place, std::string* arch, std::string* arch_name) const override;
  // SelectNvrtcTarget for "sm_<N>" (N from `arch`), with NvrtcOptions.
  RtcTarget CompileTarget(const std::string& arch,
                          const GpuCompilerOptions& options) const override;
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
// Unavailable("<driver> lacks required symbols: ...") naming every missing one, Unavailable
// with the driver's error when cuInit fails (no device, driver too old). A missing or
// incomplete NVRTC is not an error: has_rtc() is then false and rtc_error says why.
StatusOr<std::unique_ptr<CudaApi>> LoadCudaApiFrom(const CudaLibraryNames& names);

// The process's table, loaded with default CudaLibraryNames on the first call (later calls
// return the same result at once); never unloaded. Thread-safe.
StatusOr<const GpuApi*> LoadCudaApi();

// What NVRTC is asked to produce for a device of compute capability `sm` (major * 10 +
// minor). `supported` lists what NVRTC can target (empty = unknown, taken as supporting
// `sm`). CUBIN for sm_<sm> when NVRTC knows that arch and can emit CUBIN; otherwise PTX for
// the newest arch NVRTC knows that is not newer than the device (compute_<that>), which the
// driver compiles at load time. The options are left empty (NvrtcOptions fills them).
RtcTarget SelectNvrtcTarget(int sm, const std::vector<int>& supported, bool can_emit_cubin);

// The NVRTC options for `target`: --gpu-architecture=<arch>, -default-device, --std=c++17,
// --use_fast_math when asked for, then options.extra_flags.
std::vector<std::string> NvrtcOptions(const RtcTarget& target, const GpuCompilerOptions& options);

}  // namespace petabox
