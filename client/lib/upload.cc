#include "client/lib/upload.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "client/lib/names.h"
#include "engine/util/sha256.h"

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

// The regular files `path` stands for, sorted by name.
StatusOr<std::vector<fs::path>> FilesOf(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return std::vector<fs::path>{fs::path(path)};
  if (!fs::is_directory(path, ec)) return InvalidArgument(path + ": no such file or directory");
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) return InvalidArgument(path + ": " + ec.message());
  if (files.empty()) return InvalidArgument(path + ": no regular files to upload");
  std::sort(files.begin(), files.end());
  return files;
}

// Size and hex sha256 of one file.
StatusOr<v1::DatasetFile> HashFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot read " + path.string());
  Sha256 hash;
  std::string buffer(kUploadChunkBytes, '\0');
  int64_t size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.Update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
    size += in.gcount();
  }
  if (in.bad()) return Internal("error reading " + path.string());
  v1::DatasetFile file;
  file.set_path(path.filename().string());
  file.set_size_bytes(size);
  file.set_sha256(hash.HexDigest());
  return file;
}

}  // namespace

StatusOr<UploadPlan> PlanUpload(const std::string& path, const std::string& name) {
  PB_ASSIGN_OR_RETURN(std::string dataset, NormalizeDatasetName(name));
  PB_ASSIGN_OR_RETURN(std::vector<fs::path> files, FilesOf(path));
  UploadPlan plan;
  plan.header.set_name(dataset);
  for (const fs::path& file : files) {
    PB_ASSIGN_OR_RETURN(v1::DatasetFile entry, HashFile(file));
    plan.total_bytes += entry.size_bytes();
    *plan.header.add_files() = std::move(entry);
    plan.paths.push_back(file.string());
  }
  return plan;
}

Status ForEachUploadChunk(const UploadPlan& plan, size_t chunk_bytes,
                          const std::function<Status(std::string_view)>& on_chunk) {
  std::string chunk;
  chunk.reserve(chunk_bytes);
  for (size_t i = 0; i < plan.paths.size(); ++i) {
    std::ifstream in(plan.paths[i], std::ios::binary);
    if (!in) return Internal("cannot read " + plan.paths[i]);
    int64_t left = plan.header.files(static_cast<int>(i)).size_bytes();
    while (left > 0) {
      size_t want = std::min<int64_t>(left, static_cast<int64_t>(chunk_bytes - chunk.size()));
      size_t old_size = chunk.size();
      chunk.resize(old_size + want);
      in.read(chunk.data() + old_size, static_cast<std::streamsize>(want));
      if (static_cast<size_t>(in.gcount()) != want) {
        return FailedPrecondition(plan.paths[i] + " changed size while uploading");
      }
      left -= static_cast<int64_t>(want);
      if (chunk.size() == chunk_bytes) {
        PB_RETURN_IF_ERROR(on_chunk(chunk));
        chunk.clear();
      }
    }
    // Bytes beyond the planned size mean the file grew: its checksum no longer holds.
    if (in.peek() != std::ifstream::traits_type::eof()) {
      return FailedPrecondition(plan.paths[i] + " changed size while uploading");
    }
  }
  if (!chunk.empty()) PB_RETURN_IF_ERROR(on_chunk(chunk));
  return Status::Ok();
}

}  // namespace petabox::client
