#include "devices/block_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <thread>

namespace petabox {
namespace {

TEST(BlockCacheTest, BlockSizesRoundToGranularity) {
  constexpr size_t kMiB = size_t{1} << 20;
  EXPECT_EQ(BlockCache::BlockSize(0), 512u);
  EXPECT_EQ(BlockCache::BlockSize(513), 1024u);
  EXPECT_EQ(BlockCache::BlockSize(2 * kMiB - 1), 2 * kMiB);
  EXPECT_EQ(BlockCache::BlockSize(2 * kMiB + 1), 4 * kMiB);
  EXPECT_EQ(BlockCache::BlockSize(std::numeric_limits<size_t>::max()), 0u);
}

TEST(BlockCacheTest, FreedBlocksAreReusedBySizeOnly) {
  BlockCache cache;
  EXPECT_EQ(cache.Take(1024), 0u);
  cache.Put(1024, 0x1000);
  cache.Put(2048, 0x2000);
  EXPECT_EQ(cache.bytes_cached(), 3072);
  EXPECT_EQ(cache.Take(512), 0u);
  EXPECT_EQ(cache.Take(1024), 0x1000u);
  EXPECT_EQ(cache.Take(1024), 0u);
  EXPECT_EQ(cache.bytes_cached(), 2048);
  std::vector<uintptr_t> all = cache.TakeAll();
  EXPECT_EQ(all, std::vector<uintptr_t>{0x2000});
  EXPECT_EQ(cache.bytes_cached(), 0);
}

TEST(BlockCacheTest, ConcurrentPutAndTakeLoseNothing) {
  BlockCache cache;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (uintptr_t i = 1; i <= 1000; ++i) cache.Put(512, t * 10000 + i);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.bytes_cached(), 4 * 1000 * 512);
  std::vector<uintptr_t> all = cache.TakeAll();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()) - all.begin(), 4000);
}

}  // namespace
}  // namespace petabox
