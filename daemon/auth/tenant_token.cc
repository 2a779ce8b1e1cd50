#include "daemon/auth/tenant_token.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "daemon/auth/principal.h"
#include "engine/util/sha256.h"

namespace petabox::daemon {
namespace {

constexpr int kTokenBytes = 32;  // 256 bits
constexpr size_t kMaxNameLength = 32;

Status FillRandom(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Unavailable(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> NewTenantToken() {
  unsigned char raw[kTokenBytes];
  PB_RETURN_IF_ERROR(FillRandom(raw, sizeof(raw)));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = kTenantTokenPrefix;
  for (unsigned char c : raw) {
    token += kHex[c >> 4];
    token += kHex[c & 15];
  }
  return token;
}

std::string HashTenantToken(const std::string& token) { return Sha256Hex(token); }

Status ValidateTenantName(const std::string& name) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("tenant name '" + name + "': " + why);
  };
  if (name.empty() || name.size() > kMaxNameLength) return bad("must be 1..32 characters");
  if (name[0] < 'a' || name[0] > 'z') return bad("must start with a lowercase letter");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return bad("only lowercase letters, digits and '-' are allowed");
    }
  }
  if (name == kOwnerTenant) return bad("'owner' is reserved for the box owner");
  return Status::Ok();
}

}  // namespace petabox::daemon
