// CheckpointFile: receives a DownloadCheckpoint stream into PATH.partial, checks the
// sha256 and size that the last chunk announces, and only then renames it to PATH, so PATH
// never holds a partial or corrupt checkpoint.
//
// Thread-compatible: one stream per object.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "engine/util/sha256.h"
#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::client {

struct CheckpointSummary {
  std::string path;    // the final file
  std::string sha256;  // hex
  int64_t bytes = 0;
  int64_t step = 0;    // training step the checkpoint was taken at
};

class CheckpointFile {
 public:
  // Creates (truncates) PATH.partial. InvalidArgument naming it when it cannot be created.
  static StatusOr<std::unique_ptr<CheckpointFile>> Create(const std::string& path);
  // Removes PATH.partial unless Commit succeeded.
  ~CheckpointFile();
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;

  // Appends the chunk's data; remembers the sha256 and total size when the chunk carries
  // them. Internal when the write fails (disk full).
  Status Add(const v1::CheckpointChunk& chunk);
  // Checks what arrived against the announced sha256 and size. FailedPrecondition when no
  // chunk announced them (the stream ended early), DataLoss naming both values on a
  // mismatch. Call once, after the stream ended OK.
  Status Verify();
  // Flushes, closes and renames PATH.partial to PATH. Internal on I/O errors.
  StatusOr<CheckpointSummary> Commit();

  const std::string& partial_path() const { return partial_path_; }
  int64_t bytes() const { return bytes_; }

 private:
  CheckpointFile(std::string path, std::FILE* file);

  std::string path_;
  std::string partial_path_;
  std::FILE* file_;  // null after Commit
  Sha256 hash_;
  int64_t bytes_ = 0;
  int64_t step_ = 0;
  std::string announced_sha256_;
  int64_t announced_bytes_ = -1;
  std::string actual_sha256_;  // set by Verify
  bool committed_ = false;
};

}  // namespace petabox::client
