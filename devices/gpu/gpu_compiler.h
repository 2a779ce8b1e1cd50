// Compiles GPU kernels with the vendor's runtime compiler (NVRTC, hiprtc), cached on disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/gpu/gpu_api.h"

namespace petabox {

// Turns kernel source of the vendor's dialect into a binary for module_load: CUBIN or PTX
// (NVIDIA), an AMDGPU code object (AMD). Kernels must be declared extern "C" so that
// LoadProgram finds them by their plain name. Binaries are cached in
// <cache_dir>/<api.cache_subdir>/<key><api.cache_suffix>, key = SHA-256 of (RTC library
// and version, options (which name the arch), source), published with an atomic rename()
// so concurrent threads and processes never see a partial file. Thread-safe.
class GpuCompiler : public Compiler {
 public:
  // `api` must outlive the compiler; `arch` is the target device's (DeviceProperties::arch,
  // e.g. "sm_90", "gfx1100"), from which the vendor picks the RTC target.
  GpuCompiler(const GpuApi* api, const std::string& arch, GpuCompilerOptions options = {});

  // Returns the binary, compiling `source` only on a cache miss. InvalidArgument
  // ("<RTC> failed for <target>: <log>\n--- source ---\n<source>") when the source does
  // not compile; Unavailable ("cannot compile <kind> kernels: <RTC> unavailable: <why>")
  // without an RTC; other RTC errors as GpuApi::RtcCheck maps them, with the log. A cache
  // directory that cannot be written is not an error (the binary is returned, uncached).
  StatusOr<std::string> Compile(const std::string& source) override;
  int64_t compiles() const override { return compiles_.load(); }
  int64_t cache_hits() const override { return cache_hits_.load(); }
  // The RTC library and version and the target options.
  std::string version() const override;
  std::string cache_dir() const override { return kernel_dir_; }

  // What the RTC is asked for: target arch, machine code or PTX, the options.
  const RtcTarget& target() const { return target_; }
  // The directory holding the cached binaries.
  const std::string& kernel_dir() const { return kernel_dir_; }
  // Where the binary of `source` is (or would be) cached.
  std::string CachePath(const std::string& source) const;

 private:
  StatusOr<std::string> RunRtc(const std::string& source) const;

  const GpuApi* const api_;
  const RtcTarget target_;
  const std::string kernel_dir_;
  std::atomic<int64_t> compiles_{0};
  std::atomic<int64_t> cache_hits_{0};
};

}  // namespace petabox
