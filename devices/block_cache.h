// BlockCache: the free lists of a caching device allocator (CUDA, HIP). Requests are
// rounded to a block size; freed blocks wait here, by size, for the next request of that
// size instead of going back to the driver. Holds raw device addresses; knows no driver.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/util/thread_annotations.h"

namespace petabox {

class BlockCache {
 public:
  static constexpr size_t kSmallGranularity = 512;
  static constexpr size_t kLargeThreshold = size_t{2} << 20;
  static constexpr size_t kLargeGranularity = size_t{2} << 20;

  // The block size a request of `bytes` is served with: at least kSmallGranularity, rounded
  // to kSmallGranularity below kLargeThreshold and to kLargeGranularity from there; 0 when
  // the request cannot be rounded without overflowing.
  static size_t BlockSize(size_t bytes);

  // A cached block of exactly `block` bytes, or 0 when none is free.
  uintptr_t Take(size_t block) EXCLUDES(mu_);
  void Put(size_t block, uintptr_t address) EXCLUDES(mu_);
  // Empties the cache; the caller returns the blocks to the driver.
  std::vector<uintptr_t> TakeAll() EXCLUDES(mu_);
  int64_t bytes_cached() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::unordered_map<size_t, std::vector<uintptr_t>> free_ GUARDED_BY(mu_);
  int64_t bytes_cached_ GUARDED_BY(mu_) = 0;

};

}  // namespace petabox
