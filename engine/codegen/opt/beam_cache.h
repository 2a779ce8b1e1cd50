// On-disk cache of BEAM search results: one small text file per (kernel AST, device kind
// and arch, compiler version, search width), under <compiler cache dir>/beam/, written
// through a temporary file and rename() (devices/binary_cache.h), so concurrent processes
// never see half an entry. No database: the engine-only build has no SQLite. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "devices/device.h"
#include "engine/codegen/opt/action.h"
#include "engine/schedule/kernel_ast.h"

namespace petabox {

// The cache key: a SHA-256 over the AST's structure (without the device index, so
// CUDA:0 and CUDA:1 share results), the device's kind and arch, the compiler's version and
// the search width.
std::string BeamCacheKey(const KernelAst& ast, Device& device, int width);

class BeamCache {
 public:
  // `dir` holds the entries; "" disables the disk (every Find misses, Store does nothing).
  explicit BeamCache(std::string dir) : dir_(std::move(dir)) {}

  // The actions stored under `key`; nullopt when there is none. An entry that cannot be
  // parsed (not ours, truncated, another key) is a miss with a warning on stderr.
  std::optional<std::vector<Action>> Find(const std::string& key) const;
  // Stores `actions` under `key` with the measured times (for people reading the file).
  // Best effort: a cache that cannot be written only means the next run searches again.
  void Store(const std::string& key, const std::vector<Action>& actions, double seconds, double default_seconds) const;
  // Where the entry of `key` lives.
  std::string PathOf(const std::string& key) const { return dir_ + "/" + key + ".beam"; }

 private:
  std::string dir_;
};

}  // namespace petabox
