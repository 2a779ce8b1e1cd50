#include "client/lib/checkpoint_file.h"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace petabox::client {

StatusOr<std::unique_ptr<CheckpointFile>> CheckpointFile::Create(const std::string& path) {
  const std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (file == nullptr) return InvalidArgument("cannot create " + partial + ": " + std::strerror(errno));
  return std::unique_ptr<CheckpointFile>(new CheckpointFile(path, file));
}

CheckpointFile::CheckpointFile(std::string path, std::FILE* file)
    : path_(std::move(path)), partial_path_(path_ + ".partial"), file_(file) {}

CheckpointFile::~CheckpointFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(partial_path_.c_str());
}

Status CheckpointFile::Add(const v1::CheckpointChunk& chunk) {
  const std::string& data = chunk.data();
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    return Internal("writing " + partial_path_ + ": " + std::strerror(errno));
  }
  hash_.Update(data);
  bytes_ += static_cast<int64_t>(data.size());
  step_ = chunk.step();
  if (!chunk.sha256().empty()) {
    announced_sha256_ = chunk.sha256();
    announced_bytes_ = chunk.total_bytes();
  }
  return Status::Ok();
}

Status CheckpointFile::Verify() {
  if (announced_sha256_.empty()) {
    return FailedPrecondition("the checkpoint stream ended without its sha256 (incomplete download)");
  }
  actual_sha256_ = hash_.HexDigest();
  if (announced_bytes_ != bytes_) {
    return DataLoss("checkpoint size mismatch: received " + std::to_string(bytes_) + " bytes, the daemon sent " +
                    std::to_string(announced_bytes_));
  }
  if (announced_sha256_ != actual_sha256_) {
    return DataLoss("checkpoint sha256 mismatch: received " + actual_sha256_ + ", the daemon sent " +
                    announced_sha256_);
  }
  return Status::Ok();
}

StatusOr<CheckpointSummary> CheckpointFile::Commit() {
  assert(!actual_sha256_.empty() && "Commit after a successful Verify");
  bool flushed = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) return Internal("writing " + partial_path_ + ": " + std::strerror(errno));
  if (std::rename(partial_path_.c_str(), path_.c_str()) != 0) {
    return Internal("renaming " + partial_path_ + " to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  return CheckpointSummary{path_, actual_sha256_, bytes_, step_};
}

}  // namespace petabox::client
