// Planning a dataset upload: the UploadDatasetRequest header (name, files with sizes and
// hex sha256) and the data chunks that follow it. Pure file I/O, no RPC, so that what goes
// on the wire is testable on its own.
//
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"
#include "petabox/v1/dataset.pb.h"

namespace petabox::client {

// Size of each data message after the header (the last one may be shorter).
inline constexpr size_t kUploadChunkBytes = 1 << 20;

struct UploadPlan {
  // The first message: name ("datasets/NAME") and files, in the order their bytes follow.
  v1::UploadDatasetRequest header;
  // On-disk path of each file in header.files(), same order.
  std::vector<std::string> paths;
  int64_t total_bytes = 0;
};

// Plans an upload of `path` (a regular file, or a directory's regular files, not recursing,
// sorted by name) as dataset `name` ("NAME" or "datasets/NAME"); reads every file once to
// hash it. InvalidArgument for a bad dataset name, a missing path or one with no regular
// files; Internal when a file cannot be read.
StatusOr<UploadPlan> PlanUpload(const std::string& path, const std::string& name);

// Reads the plan's files in order and passes their bytes, concatenated, to on_chunk in
// pieces of chunk_bytes (the last may be shorter; pieces span file boundaries). Stops at
// on_chunk's first error and returns it; FailedPrecondition when a file's size changed
// since PlanUpload; Internal when a file cannot be read.
Status ForEachUploadChunk(const UploadPlan& plan, size_t chunk_bytes,
                          const std::function<Status(std::string_view)>& on_chunk);

}  // namespace petabox::client
