// Compiles HIP kernels with hiprtc, cached on disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/hip/hip_api.h"

namespace petabox {

struct HipCompilerOptions {
  // Root of the on-disk cache; code objects live in <cache_dir>/hip/. Empty means
  // DefaultCacheDir() (devices/cpu/cpu_compiler.h).
  std::string cache_dir;
  // -ffast-math: approximate division, square root and transcendentals, no NaN/inf
  // guarantees. Off by default so results follow IEEE-754 like the CPU backend.
  bool fast_math = false;
  // More hiprtc options, appended after the defaults. Part of the cache key.
  std::vector<std::string> extra_flags;
};

// The hiprtc options for a device of target `arch` (e.g. "gfx1100"): --offload-arch=<arch>,
// -O3, -ffast-math when asked for, then options.extra_flags. (hiprtc adds its own
// -std=c++14, -D__HIPCC_RTC__ and its builtin header.)
std::vector<std::string> HiprtcOptions(const std::string& arch, const HipCompilerOptions& options);

// Turns HIP C++ source into an AMDGPU code object for hipModuleLoadData. Kernels must be
// declared extern "C" so that LoadProgram finds them by their plain name. Code objects
// are cached in <cache_dir>/hip/<key>.hsaco, key = SHA-256 of (hiprtc library and
// version, options (which name the arch), source), published with an atomic rename() so
// concurrent threads and processes never see a partial file. Thread-safe.
class HipCompiler : public Compiler {
 public:
  // `api` must outlive the compiler; `arch` is the target's gcnArchName without features.
  HipCompiler(const HipApi* api, std::string arch, HipCompilerOptions options = {});

  // Returns the code object, compiling `source` only on a cache miss. InvalidArgument
  // ("hiprtc failed for gfx1100: <log>\n--- source ---\n<source>") when the source does
  // not compile; Unavailable when hiprtc is not installed; other hiprtc errors as
  // HiprtcCheck maps them. A cache directory that cannot be written is not an error (the
  // code object is returned, uncached).
  StatusOr<std::string> Compile(const std::string& source) override;
  int64_t compiles() const override { return compiles_.load(); }
  int64_t cache_hits() const override { return cache_hits_.load(); }

  const std::string& arch() const { return arch_; }
  const std::vector<std::string>& hiprtc_options() const { return hiprtc_options_; }
  // The directory holding the cached code objects.
  const std::string& kernel_dir() const { return kernel_dir_; }
  // Where the code object of `source` is (or would be) cached.
  std::string CachePath(const std::string& source) const;

 private:
  StatusOr<std::string> RunHiprtc(const std::string& source) const;

  const HipApi* const api_;
  const std::string arch_;
  const std::vector<std::string> hiprtc_options_;
  const std::string kernel_dir_;
  std::atomic<int64_t> compiles_{0};
  std::atomic<int64_t> cache_hits_{0};
};

}  // namespace petabox
