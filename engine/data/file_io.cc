#include "engine/data/file_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#ifdef PETABOX_HAVE_ZLIB
#include <zlib.h>
#endif

namespace petabox::data {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string ErrnoText() { return std::strerror(errno); }

#ifndef PETABOX_HAVE_ZLIB
// `what`: "is gzip-compressed" (reading) or "cannot be written gzip-compressed".
Status NoZlib(const std::string& path, const char* what) {
  return Unimplemented(path + ": " + what + ": this build has no zlib (install zlib1g-dev and reconfigure" +
                       ", or use an uncompressed file)");
}
#endif

StatusOr<std::vector<uint8_t>> ReadPlain(std::FILE* f, const std::string& path) {
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(f)) return Unavailable(path + ": read failed: " + ErrnoText());
  return bytes;
}

#ifdef PETABOX_HAVE_ZLIB
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

StatusOr<std::vector<uint8_t>> ReadGzip(const std::string& path) {
  GzPtr f(gzopen(path.c_str(), "rb"));
  if (!f) return NotFound(path + ": cannot open: " + ErrnoText());
  gzbuffer(f.get(), 1 << 17);
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    int n = gzread(f.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(f.get(), &code);
      return InvalidArgument(path + ": corrupt or truncated gzip stream: " + (message ? message : "unknown error"));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  return bytes;
}

Status WriteGzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  GzPtr f(gzopen(path.c_str(), "wb"));
  if (!f) return Unavailable(path + ": cannot create: " + ErrnoText());
  size_t done = 0;
  while (done < bytes.size()) {
    unsigned n = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, 1 << 20));
    if (gzwrite(f.get(), bytes.data() + done, n) != static_cast<int>(n)) return Unavailable(path + ": write failed");
    done += n;
  }
  if (gzclose(f.release()) != Z_OK) return Unavailable(path + ": write failed on close");
  return Status::Ok();
}
#endif

}  // namespace

bool HaveZlib() {
#ifdef PETABOX_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) return NotFound(path + ": cannot open: " + ErrnoText());
  uint8_t magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, f.get());
  bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gzip) {
    std::rewind(f.get());
    return ReadPlain(f.get(), path);
  }
#ifdef PETABOX_HAVE_ZLIB
  f.reset();
  return ReadGzip(path);
#else
  return NoZlib(path, "is gzip-compressed");
#endif
}

Status WriteFileBytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (gzip) {
#ifdef PETABOX_HAVE_ZLIB
    return WriteGzip(path, bytes);
#else
    return NoZlib(path, "cannot be written gzip-compressed");
#endif
  }
  FilePtr f(std::fopen(path.c_str(), "wb"));
  if (!f) return Unavailable(path + ": cannot create: " + ErrnoText());
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    return Unavailable(path + ": write failed: " + ErrnoText());
  }
  if (std::fclose(f.release()) != 0) return Unavailable(path + ": write failed on close: " + ErrnoText());
  return Status::Ok();
}

}  // namespace petabox::data
