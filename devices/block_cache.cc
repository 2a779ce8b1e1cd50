#include "devices/block_cache.h"

#include <algorithm>
#include <limits>

namespace petabox {
namespace {

size_t RoundUp(size_t bytes, size_t granularity) { return (bytes + granularity - 1) / granularity * granularity; }

}  // namespace

size_t BlockCache::BlockSize(size_t bytes) {
  constexpr size_t kMax = std::numeric_limits<size_t>::max() - kLargeGranularity;
  if (bytes > kMax) return 0;
  if (bytes < kLargeThreshold) return RoundUp(std::max<size_t>(bytes, 1), kSmallGranularity);
  return RoundUp(bytes, kLargeGranularity);
}

uintptr_t BlockCache::Take(size_t block) {
  MutexLock lock(mu_);
  auto it = free_.find(block);
  if (it == free_.end() || it->second.empty()) return 0;
  uintptr_t address = it->second.back();
  it->second.pop_back();
  bytes_cached_ -= static_cast<int64_t>(block);
  return address;
}

void BlockCache::Put(size_t block, uintptr_t address) {
  MutexLock lock(mu_);
  free_[block].push_back(address);
  bytes_cached_ += static_cast<int64_t>(block);
}

std::vector<uintptr_t> BlockCache::TakeAll() {
  MutexLock lock(mu_);
  std::vector<uintptr_t> all;
  for (auto& [block, addresses] : free_) all.insert(all.end(), addresses.begin(), addresses.end());
  free_.clear();
  bytes_cached_ = 0;
  return all;
}

int64_t BlockCache::bytes_cached() const {
  MutexLock lock(mu_);
  return bytes_cached_;
}

}  // namespace petabox
