#include "daemon/store/dataset_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>
#include <vector>

#include "engine/util/sha256.h"

namespace petabox::daemon {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNamePrefix = "datasets/";
// Temporary directories under the root: uploads in progress and datasets being deleted.
// Dataset ids start with a letter, so these names never collide with a dataset.
constexpr std::string_view kUploadPrefix = ".upload-";
constexpr std::string_view kDeletePrefix = ".delete-";
constexpr size_t kMaxIdLength = 63;
constexpr size_t kMaxFileNameBytes = 255;  // NAME_MAX on Linux file systems

// A full disk is the user's to fix (ResourceExhausted); other I/O errors are Internal.
Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string message = what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(message);
  return Internal(message);
}

Status ErrnoStatus(const std::string& what, const std::string& path) { return ErrnoStatus(what, path, errno); }

Status Fsync(int fd, const std::string& path) {
  if (::fsync(fd) == 0) return Status::Ok();
  return ErrnoStatus("cannot fsync", path);
}

// Makes a directory's entries (new files, renames) durable.
Status FsyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  Status status = Fsync(fd, path);
  ::close(fd);
  return status;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Creates a fresh directory "{root}/{prefix}XXXXXX" and returns its path.
StatusOr<std::string> MakeTempDirectory(const std::string& root, std::string_view prefix) {
  std::string path = root + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return ErrnoStatus("cannot create directory in", root);
  return path;
}

// OK when nothing exists at `path`.
Status CheckAbsent(const std::string& path, const std::string& dataset_name) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return AlreadyExists("dataset \"" + dataset_name + "\" already exists");
  if (errno == ENOENT) return Status::Ok();
  return ErrnoStatus("cannot stat", path);
}

std::string IdFromName(const std::string& name) {
  if (name.starts_with(kNamePrefix)) return name.substr(kNamePrefix.size());
  return name;
}

// Lowercases a 64-digit hex sha256; "" when `hex` is not one.
std::string NormalizeSha256(std::string hex) {
  if (hex.size() != 64) return "";
  for (char& c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex;
}

Status ValidateFileName(const std::string& name) {
  bool plain = !name.empty() && name != "." && name != ".." && name.size() <= kMaxFileNameBytes &&
               name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
  if (plain) return Status::Ok();
  return InvalidArgument("dataset file name \"" + name +
                         "\" is not a plain file name (not empty, \".\" or \"..\", no '/', at most 255 bytes)");
}

Status ValidateFile(const v1::DatasetFile& file) {
  PB_RETURN_IF_ERROR(ValidateFileName(file.path()));
  if (file.size_bytes() < 0) return InvalidArgument("dataset file \"" + file.path() + "\" has a negative size");
  if (NormalizeSha256(file.sha256()).empty()) {
    return InvalidArgument("dataset file \"" + file.path() + "\": sha256 must be 64 hex digits");
  }
  return Status::Ok();
}

// Checks the header's files and returns them with lowercase checksums.
StatusOr<std::vector<v1::DatasetFile>> ValidateFiles(const v1::UploadDatasetRequest& header, int64_t max_bytes) {
  if (header.files().empty()) return InvalidArgument("dataset upload lists no files");
  std::vector<v1::DatasetFile> files;
  std::set<std::string> names;
  int64_t total = 0;
  for (const v1::DatasetFile& file : header.files()) {
    PB_RETURN_IF_ERROR(ValidateFile(file));
    if (!names.insert(file.path()).second)
      return InvalidArgument("dataset file \"" + file.path() + "\" is listed twice");
    if (file.size_bytes() > max_bytes - total) {
      return ResourceExhausted("dataset is larger than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    total += file.size_bytes();
    files.push_back(file);
    files.back().set_sha256(NormalizeSha256(file.sha256()));
  }
  return files;
}

}  // namespace

Status ValidateDatasetId(const std::string& id) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto id_char = [&](char c) { return lower(c) || (c >= '0' && c <= '9') || c == '-'; };
  bool valid = !id.empty() && id.size() <= kMaxIdLength && lower(id[0]) && std::all_of(id.begin(), id.end(), id_char);
  if (valid) return Status::Ok();
  return InvalidArgument("dataset id \"" + id +
                         "\" is invalid: use 1..63 lowercase letters, digits and '-', starting with a letter");
}

// The files are written one after the other into temp_dir; each is fsynced and its digest
// taken as its last byte arrives. Any error aborts the upload (temp_dir removed).
struct DatasetUpload::State {
  std::string root;
  std::string id;
  std::string temp_dir;
  std::vector<v1::DatasetFile> files;  // checksums lowercase
  int64_t remaining = 0;               // bytes still expected, all files together
  size_t index = 0;                    // file being written
  int fd = -1;                         // of files[index], -1 between files
  int64_t written = 0;                 // bytes of files[index] so far
  Sha256 sha;                          // of files[index] so far
  std::vector<std::string> digests;    // of files[0..index)
  bool done = false;                   // committed or aborted

  std::string Name() const { return std::string(kNamePrefix) + id; }
  std::string FilePath(size_t i) const { return temp_dir + "/" + files[i].path(); }

  // Opens files[index] for writing, first creating any empty files at index.
  Status OpenNextFile() {
    while (index < files.size()) {
      fd = ::open(FilePath(index).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return ErrnoStatus("cannot create", FilePath(index));
      written = 0;
      sha = Sha256();
      if (files[index].size_bytes() > 0) return Status::Ok();
      PB_RETURN_IF_ERROR(CloseFile());
    }
    return Status::Ok();
  }

  // Finishes files[index] (complete): fsync, close, digest.
  Status CloseFile() {
    Status synced = Fsync(fd, FilePath(index));
    ::close(fd);
    fd = -1;
    PB_RETURN_IF_ERROR(synced);
    digests.push_back(sha.HexDigest());
    ++index;
    return Status::Ok();
  }

  Status Write(std::string_view bytes) {
    if (static_cast<int64_t>(bytes.size()) > remaining) {
      return InvalidArgument("dataset \"" + Name() + "\": more bytes arrived than the listed files' sizes add up to");
    }
    remaining -= static_cast<int64_t>(bytes.size());
    while (!bytes.empty()) {
      size_t n = static_cast<size_t>(std::min<int64_t>(files[index].size_bytes() - written, bytes.size()));
      PB_RETURN_IF_ERROR(WriteAll(fd, bytes.substr(0, n), FilePath(index)));
      sha.Update(bytes.substr(0, n));
      written += static_cast<int64_t>(n);
      bytes.remove_prefix(n);
      if (written == files[index].size_bytes()) {
        PB_RETURN_IF_ERROR(CloseFile());
        PB_RETURN_IF_ERROR(OpenNextFile());
      }
    }
    return Status::Ok();
  }

  Status Verify() const {
    if (index < files.size()) {
      return DataLoss("dataset \"" + Name() + "\": file \"" + files[index].path() + "\" is incomplete: got " +
                      std::to_string(written) + " of " + std::to_string(files[index].size_bytes()) + " bytes");
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (digests[i] == files[i].sha256()) continue;
      return DataLoss("dataset \"" + Name() + "\": file \"" + files[i].path() + "\" does not match its sha256 (got " +
                      digests[i] + ", expected " + files[i].sha256() + ")");
    }
    return Status::Ok();
  }

  // Renames temp_dir to root/id. Durable when it returns OK.
  Status Publish() {
    PB_RETURN_IF_ERROR(FsyncDirectory(temp_dir));
    std::string final_dir = root + "/" + id;
    if (::rename(temp_dir.c_str(), final_dir.c_str()) != 0) {
      // Another upload of the same name got there first.
      if (errno == EEXIST || errno == ENOTEMPTY) return AlreadyExists("dataset \"" + Name() + "\" already exists");
      return ErrnoStatus("cannot rename to", final_dir);
    }
    temp_dir = final_dir;  // what Abort removes if the rename cannot be made durable
    return FsyncDirectory(root);
  }

  void Abort() {
    if (done) return;
    done = true;
    if (fd >= 0) ::close(fd);
    fd = -1;
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
  }
};

StatusOr<std::unique_ptr<DatasetUpload>> DatasetUpload::Begin(const std::string& root,
                                                              const v1::UploadDatasetRequest& header,
                                                              int64_t max_bytes) {
  auto state = std::make_unique<State>();
  state->root = root;
  state->id = IdFromName(header.name());
  PB_RETURN_IF_ERROR(ValidateDatasetId(state->id));
  PB_ASSIGN_OR_RETURN(state->files, ValidateFiles(header, max_bytes));
  for (const v1::DatasetFile& file : state->files) state->remaining += file.size_bytes();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Internal("cannot create " + root + ": " + ec.message());
  PB_RETURN_IF_ERROR(CheckAbsent(root + "/" + state->id, state->Name()));
  PB_ASSIGN_OR_RETURN(state->temp_dir, MakeTempDirectory(root, kUploadPrefix));
  std::unique_ptr<DatasetUpload> upload(new DatasetUpload());
  upload->state_ = std::move(state);
  PB_RETURN_IF_ERROR(upload->state_->OpenNextFile());  // on error ~DatasetUpload cleans up
  return upload;
}

DatasetUpload::~DatasetUpload() {
  if (state_ != nullptr) state_->Abort();
}

Status DatasetUpload::Write(const std::string& bytes) {
  if (state_->done) return FailedPrecondition("upload of dataset \"" + state_->Name() + "\" already ended");
  Status status = state_->Write(bytes);
  if (!status.ok()) state_->Abort();
  return status;
}

StatusOr<v1::Dataset> DatasetUpload::Commit() {
  if (state_->done) return FailedPrecondition("upload of dataset \"" + state_->Name() + "\" already ended");
  Status status = state_->Verify();
  if (status.ok()) status = state_->Publish();
  if (!status.ok()) {
    state_->Abort();
    return status;
  }
  state_->done = true;
  v1::Dataset dataset;
  dataset.set_name(state_->Name());
  for (const v1::DatasetFile& file : state_->files) {
    *dataset.add_files() = file;
    dataset.set_total_bytes(dataset.total_bytes() + file.size_bytes());
  }
  return dataset;
}

Status RemoveDatasetFiles(const std::string& root, const std::string& id) {
  PB_RETURN_IF_ERROR(ValidateDatasetId(id));
  std::string dir = root + "/" + id;
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("no files for dataset \"" + std::string(kNamePrefix) + id + "\"");
    return ErrnoStatus("cannot stat", dir);
  }
  // Moved aside first (onto an empty temporary directory, which rename replaces), so that a
  // crash halfway leaves the whole dataset or a leftover for RemoveStaleUploads, never a
  // dataset with files missing.
  PB_ASSIGN_OR_RETURN(std::string trash, MakeTempDirectory(root, kDeletePrefix));
  if (::rename(dir.c_str(), trash.c_str()) != 0) {
    Status status = ErrnoStatus("cannot move aside", dir);
    ::rmdir(trash.c_str());
    return status;
  }
  std::error_code ec;
  fs::remove_all(trash, ec);
  if (ec) return Internal("cannot remove " + trash + ": " + ec.message());
  return Status::Ok();
}

void RemoveStaleUploads(const std::string& root) {
  std::vector<fs::path> stale;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(kUploadPrefix) || name.starts_with(kDeletePrefix)) stale.push_back(it->path());
  }
  // Best effort: what cannot be removed now is tried again at the next start.
  for (const fs::path& path : stale) fs::remove_all(path, ec);
}

}  // namespace petabox::daemon
