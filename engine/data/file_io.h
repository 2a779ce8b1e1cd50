// Whole-file reads and writes for dataset files, with transparent gzip (through zlib
// when the build has it). Internal to engine/data. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace petabox::data {

// True when the build links zlib (PETABOX_HAVE_ZLIB).
bool HaveZlib();

// The file's bytes, decompressed when it starts with the gzip magic (1f 8b).
// NotFound when it cannot be opened; InvalidArgument for a corrupt or truncated gzip
// stream; Unimplemented for a gzip file without zlib. Messages name the file.
StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

// Writes `bytes` to `path` (gzip-compressed when `gzip`). Unavailable when the file cannot
// be written; Unimplemented for gzip without zlib.
Status WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip);

}  // namespace petabox::data
