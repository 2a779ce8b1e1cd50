// Compiles C kernels to shared objects with the system C compiler, cached on disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "devices/device.h"

namespace petabox {

struct CpuCompilerOptions {
  // The C compiler, looked up on PATH when it has no '/'.
  std::string cc = "cc";
  // Flags passed before "-o <out> <source>". They are part of the cache key.
  std::vector<std::string> flags = {"-O3",    "-march=native",      "-std=gnu11",
                                    "-fPIC",  "-shared",            "-ffp-contract=fast",
                                    "-fno-math-errno"};
  // Root of the on-disk cache; kernels live in <cache_dir>/kernels/. Empty means
  // DefaultCacheDir().
  std::string cache_dir;
};

// The cache root used when CpuCompilerOptions::cache_dir is empty: $PETABOX_CACHE_DIR,
// else $XDG_CACHE_HOME/petabox, else $HOME/.cache/petabox, else /tmp/petabox-cache.
// This is the only place the CPU backend reads the environment; CpuCompiler calls it once,
// at construction.
std::string DefaultCacheDir();

// Turns C source into the path of a shared object holding it, compiling only on a cache
// miss. Cache entries are named by Sha256Hex(cc, flags, source) and published with an
// atomic rename(), so concurrent threads and processes sharing a cache directory never
// see a partly written file (two racing misses on one key both compile; the last rename
// wins, with identical content). Thread-safe.
class CpuCompiler : public Compiler {
 public:
  explicit CpuCompiler(CpuCompilerOptions options = {});

  // Returns the path of <cache_dir>/kernels/<key>.so, compiling `source` first unless it
  // is cached. InvalidArgument with the compiler's log and the source if compilation
  // fails; Unavailable if the compiler cannot be started; Internal on cache I/O errors.
  StatusOr<std::string> Compile(const std::string& source) override;
  int64_t compiles() const override { return compiles_.load(); }
  int64_t cache_hits() const override { return cache_hits_.load(); }
  // The first line of `cc --version` (run once, on first call), the flags and the host
  // CPU's model and features.
  std::string version() const override;
  std::string cache_dir() const override { return kernel_dir_; }

  // The options in use, with cache_dir resolved.
  const CpuCompilerOptions& options() const { return options_; }
  // The directory holding the cached shared objects.
  const std::string& kernel_dir() const { return kernel_dir_; }

 private:
  std::string CacheKey(const std::string& source) const;
  // Compiles `source` to a temporary file and renames it to `so_path`.
  Status CompileTo(const std::string& source, const std::string& key,
                   const std::string& so_path);

  const CpuCompilerOptions options_;
  const std::string kernel_dir_;
  std::atomic<int64_t> compiles_{0};
  std::atomic<int64_t> cache_hits_{0};
  mutable std::once_flag version_once_;
  mutable std::string version_;  // set once under version_once_
};

}  // namespace petabox
