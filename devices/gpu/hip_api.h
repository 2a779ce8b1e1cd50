// AMD's entry points for the GPU table: the HIP runtime (libamdhip64) and hiprtc, loaded
// with dlopen (gpu_api.h says how the table is declared and checked).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "devices/gpu/gpu_api.h"

namespace petabox {

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

// The table for AMD GPUs, plus the runtime entry points only HIP's per-thread current
// device, its peer calls and its error naming use. HIP device handles are ordinals.
class HipApi : public GpuApi {
 public:
  HipApi();

  const char* (*hipGetErrorName)(GpuResult error) = nullptr;
  const char* (*hipGetErrorString)(GpuResult error) = nullptr;
  GpuResult (*hipSetDevice)(int device) = nullptr;
  GpuResult (*hipDeviceEnablePeerAccess)(int peer, unsigned flags) = nullptr;
  GpuResult (*hipMemcpyPeerAsync)(GpuDevicePtr dst, int dst_device, GpuDevicePtr src,
                                  int src_device, size_t bytes, GpuStream stream) = nullptr;
  // hipGetDevicePropertiesR0600 when the runtime has it (ROCm 6+), else the ROCm 5
  // hipGetDeviceProperties; props_r0600 says which. The struct is taken as raw bytes
  // (see kHipProps*): only gcnArchName is read from it.
  GpuResult (*hipGetDeviceProperties)(void* props, int device) = nullptr;
  bool props_r0600 = false;
  GpuResult (*hipRuntimeGetVersion)(int* version) = nullptr;
  int runtime_version = 0;  // e.g. 50221153 for ROCm 5.2

  const char* ErrorName(GpuResult r) const override;
  const char* ErrorText(GpuResult r) const override;
  // hiprtc's names when the library cannot give them.
  const char* RtcErrorName(RtcResult r) const override;
  Status OpenDevice(int ordinal, GpuPlace* place) const override;
  void CloseDevice(const GpuPlace& place) const override {}
  Status MakeCurrent(const GpuPlace& place) const override;
  GpuResult EnablePeerAccess(const GpuPlace& peer) const override;
  GpuResult CopyPeerAsync(GpuDevicePtr dst, const GpuPlace& dst_place, GpuDevicePtr src,
                          const GpuPlace& src_place, size_t bytes, GpuStream stream) const override;
  // The gfx target from whichever hipDeviceProp_t layout the runtime fills; Internal when
  // the field holds no gfx target (GcnArchFromProperties).
  Status ReadArch(const GpuPlace& place, std::string* arch, std::string* arch_name) const override;
  // HiprtcOptions for `arch`; always machine code.
  RtcTarget CompileTarget(const std::string& arch,
                          const GpuCompilerOptions& options) const override;
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
// missing hiprtc is not an error: has_rtc() is then false and rtc_error says why.
StatusOr<std::unique_ptr<HipApi>> LoadHipApiFrom(const HipLibraryNames& names);

// Like LoadHipApiFrom but without hipInit: for compiling kernels (hiprtc) on a machine
// that has ROCm's libraries and no AMD GPU. Thread-safe.
StatusOr<std::unique_ptr<HipApi>> LoadHipLibrariesFrom(const HipLibraryNames& names);

// The process's table, loaded with default HipLibraryNames on the first call (later calls
// return the same result at once); never unloaded. Thread-safe.
StatusOr<const GpuApi*> LoadHipApi();

// The hiprtc options for a device of target `arch` (e.g. "gfx1100"): --offload-arch=<arch>,
// -O3, -ffast-math when asked for, then options.extra_flags. (hiprtc adds its own
// -std=c++14, -D__HIPCC_RTC__ and its builtin header.)
std::vector<std::string> HiprtcOptions(const std::string& arch, const GpuCompilerOptions& options);

// The target name in a hipDeviceProp_t read as raw bytes (`props`, at least the layout's
// size): gcnArchName at `offset`, with target features cut off ("gfx90a:sramecc+:xnack-"
// gives "gfx90a"). Internal, naming what was read, when the field is not a gfx target
// (a runtime whose struct layout is not the one expected).
StatusOr<std::string> GcnArchFromProperties(std::string_view props, size_t offset);

}  // namespace petabox
