#include "daemon/auth/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace petabox::daemon {
namespace {

constexpr char kTokenFile[] = "/owner.token";

StatusOr<std::string> RandomHex(int bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!urandom.read(raw.data(), bytes)) return Unavailable("cannot read /dev/urandom");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

StatusOr<std::string> CreateToken(const std::string& path) {
  PB_ASSIGN_OR_RETURN(std::string token, RandomHex(32));
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable(tmp + ": " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Unavailable(path + ": " + std::strerror(errno));
  return token;
}

}  // namespace

StatusOr<std::string> LoadOrCreateOwnerToken(const std::string& data_dir) {
  const std::string path = data_dir + kTokenFile;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Unavailable(path + ": " + std::strerror(errno));
    return CreateToken(path);
  }
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition(path + " is readable by other users: chmod 600 it (or delete it to make a new token)");
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !(in >> token) || token.empty()) return FailedPrecondition(path + " is empty: delete it to make a new token");
  return token;
}

bool TokensEqual(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

std::string BearerToken(const std::string& authorization) {
  constexpr char kPrefix[] = "Bearer ";
  if (authorization.rfind(kPrefix, 0) != 0) return "";
  return authorization.substr(sizeof(kPrefix) - 1);
}

}  // namespace petabox::daemon
