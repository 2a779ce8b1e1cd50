// Files of the on-disk kernel caches (GPU code objects): entries appear only through
// rename() of a complete temporary file, so an entry that exists is whole, and concurrent
// processes never see half a file.
#pragma once

#include <optional>
#include <string>

namespace petabox {

// The whole file, or nothing when it cannot be read or is empty (a cache miss).
std::optional<std::string> ReadCacheEntry(const std::string& path);
// Writes `data` to `path` (creating `dir`) through a temporary file and rename(). Best
// effort: a cache that cannot be written only means the next run compiles again.
void StoreCacheEntry(const std::string& dir, const std::string& path, const std::string& data);

}  // namespace petabox
