// Dataset files on disk: DATA_DIR/datasets/{id}/{file}. An upload is written into a
// temporary directory beside the final one and renamed into place only after every file's
// size and sha256 checked out, so a failed or broken upload leaves nothing behind.
//
// Thread-compatible: one upload per DatasetUpload object (the gRPC handler thread's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/util/status.h"
#include "petabox/v1/dataset.pb.h"

namespace petabox::daemon {

// Checks a dataset id ("fashion-small"): lowercase letters, digits and '-', 1..63
// characters, starting with a letter. InvalidArgument naming the rule otherwise.
Status ValidateDatasetId(const std::string& id);

class DatasetUpload {
 public:
  // Starts an upload of `header` (name "datasets/{id}" or "{id}", files with sizes and
  // checksums) under `root` (DATA_DIR/datasets). InvalidArgument for a bad id, file name
  // (empty, '/', "..", duplicates), size or checksum format; ResourceExhausted when the
  // listed sizes add up to more than max_bytes; AlreadyExists when the final directory
  // exists.
  static StatusOr<std::unique_ptr<DatasetUpload>> Begin(const std::string& root, const v1::UploadDatasetRequest& header,
                                                        int64_t max_bytes);
  // Removes the temporary directory unless Commit succeeded.
  ~DatasetUpload();

  // Appends bytes (they fill the listed files in order). InvalidArgument when more bytes
  // arrive than the files' sizes add up to.
  Status Write(const std::string& bytes);
  // Verifies that every file is complete and matches its sha256 (DataLoss naming the file
  // otherwise), fsyncs, renames the directory into place and returns the dataset
  // (name "datasets/{id}", files, total_bytes; create_time left for the caller).
  StatusOr<v1::Dataset> Commit();

 private:
  DatasetUpload() = default;
  struct State;
  std::unique_ptr<State> state_;
};

// Removes DATA_DIR/datasets/{id} and everything in it. NotFound when it does not exist.
Status RemoveDatasetFiles(const std::string& root, const std::string& id);

// Removes leftover temporary upload directories under `root` (after a crash mid-upload).
void RemoveStaleUploads(const std::string& root);

}  // namespace petabox::daemon
