#include "devices/binary_cache.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace petabox {
namespace {

TEST(BinaryCacheTest, StoredEntryReadsBackAndLeavesNoTemporaries) {
  std::string dir = ::testing::TempDir() + "/petabox-binary-cache-" + std::to_string(::getpid()) + "/sub";
  std::string path = dir + "/entry.bin";
  EXPECT_FALSE(ReadCacheEntry(path).has_value());
  std::string data("\x7f" "ELF\0binary", 10);
  StoreCacheEntry(dir, path, data);
  auto read = ReadCacheEntry(path);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, data);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST(BinaryCacheTest, UnwritableDirectoryIsAMissNotACrash) {
  StoreCacheEntry("/proc/petabox-no-such-dir", "/proc/petabox-no-such-dir/x", "data");
  EXPECT_FALSE(ReadCacheEntry("/proc/petabox-no-such-dir/x").has_value());
}

}  // namespace
}  // namespace petabox
