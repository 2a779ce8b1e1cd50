// Compiles CUDA C++ kernels with NVRTC, cached on disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "devices/cuda/cuda_api.h"
#include "devices/device.h"

namespace petabox {

struct CudaCompilerOptions {
  // Root of the on-disk cache; kernels live in <cache_dir>/cuda/. Empty means
  // DefaultCacheDir() (devices/cpu/cpu_compiler.h).
  std::string cache_dir;
  // --use_fast_math: flush denormals to zero and use approximate division, square root
  // and transcendentals. Off by default so results follow IEEE-754 like the CPU backend.
  bool fast_math = false;
  // More NVRTC options, appended after the defaults. Part of the cache key.
  std::vector<std::string> extra_flags;
};

// What NVRTC is asked to produce for a device.
struct NvrtcTarget {
  std::string arch;    // the --gpu-architecture value: "sm_90" or "compute_90"
  bool cubin = false;  // true: machine code (nvrtcGetCUBIN); false: PTX the driver JITs
};

// The target for a device of compute capability `sm` (major * 10 + minor, e.g. 90).
// `supported` lists what NVRTC can target (nvrtcGetSupportedArchs; empty = unknown, taken
// as supporting `sm`). CUBIN for sm_<sm> when NVRTC knows that arch and can emit CUBIN;
// otherwise PTX for the newest arch NVRTC knows that is not newer than the device
// (compute_<that>), which the driver compiles at load time.
NvrtcTarget SelectNvrtcTarget(int sm, const std::vector<int>& supported, bool can_emit_cubin);

// The NVRTC options for `target`: --gpu-architecture=<arch>, -default-device,
// --std=c++17, --use_fast_math when asked for, then options.extra_flags.
std::vector<std::string> NvrtcOptions(const NvrtcTarget& target,
                                      const CudaCompilerOptions& options);

// Turns CUDA C++ source into a CUBIN or PTX image for cuModuleLoadData. Kernels must be
// declared extern "C" so that LoadProgram finds them by their plain name. Images are
// cached in <cache_dir>/cuda/<key>.bin, key = SHA-256 of (NVRTC version, options,
// source), published with an atomic rename() so concurrent threads and processes never
// see a partial file. Thread-safe.
class CudaCompiler : public Compiler {
 public:
  // `api` must outlive the compiler; `sm` is the target device's compute capability.
  CudaCompiler(const CudaApi* api, int sm, CudaCompilerOptions options = {});

  // Returns the image, compiling `source` only on a cache miss. InvalidArgument
  // ("NVRTC failed: <log>\n--- source ---\n<source>") when the source does not compile;
  // Unavailable when NVRTC is not installed; other NVRTC errors as NvrtcCheck maps them.
  // A cache directory that cannot be written is not an error (the image is returned,
  // uncached).
  StatusOr<std::string> Compile(const std::string& source) override;
  int64_t compiles() const override { return compiles_.load(); }
  int64_t cache_hits() const override { return cache_hits_.load(); }

  const NvrtcTarget& target() const { return target_; }
  const std::vector<std::string>& nvrtc_options() const { return nvrtc_options_; }
  // The directory holding the cached images.
  const std::string& kernel_dir() const { return kernel_dir_; }
  // Where the image of `source` is (or would be) cached.
  std::string CachePath(const std::string& source) const;

 private:
  StatusOr<std::string> RunNvrtc(const std::string& source) const;

  const CudaApi* const api_;
  const NvrtcTarget target_;
  const std::vector<std::string> nvrtc_options_;
  const std::string kernel_dir_;
  std::atomic<int64_t> compiles_{0};
  std::atomic<int64_t> cache_hits_{0};
};

}  // namespace petabox
