#include "client/lib/token.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace petabox::client {
namespace {

std::string Trim(std::string_view s) {
  const char* kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  size_t end = s.find_last_not_of(kSpace);
  return std::string(s.substr(begin, end - begin + 1));
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The host part of a gRPC target: scheme and port removed, IPv6 brackets stripped.
std::string HostOf(std::string_view target) {
  for (std::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (StartsWith(target, scheme)) {
      target.remove_prefix(scheme.size());
      break;
    }
  }
  if (StartsWith(target, "[")) {
    size_t close = target.find(']');
    return std::string(target.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  // More than one ':' without brackets: a bare IPv6 address, no port.
  if (target.find(':') != target.rfind(':')) return std::string(target);
  return std::string(target.substr(0, target.find(':')));
}

bool IsLoopbackHost(const std::string& host) {
  std::string lower;
  for (char c : host) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "localhost" || lower == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

std::optional<Token> TokenFromFlag(const std::string& flag) {
  if (flag.empty()) return std::nullopt;
  return Token{flag, TokenSource::kFlag, "--token"};
}

std::optional<Token> TokenFromEnv(const ClientEnv& env) {
  if (env.petabox_token.empty()) return std::nullopt;
  return Token{env.petabox_token, TokenSource::kEnv, "PETABOX_TOKEN"};
}

std::optional<Token> TokenFromConfig(const CliConfig& config) {
  if (config.token.empty()) return std::nullopt;
  return Token{config.token, TokenSource::kConfig, config.path};
}

std::string DefaultDataDir(const ClientEnv& env) {
  if (!env.xdg_data_home.empty()) return env.xdg_data_home + "/petabox";
  if (!env.home.empty()) return env.home + "/.local/share/petabox";
  return "";
}

bool IsLoopbackServer(const std::string& server) { return IsLoopbackHost(HostOf(server)); }

StatusOr<std::optional<Token>> TokenFromOwnerFile(const std::string& server, const std::string& data_dir) {
  if (data_dir.empty() || !IsLoopbackServer(server)) return std::optional<Token>();
  const std::string path = data_dir + "/owner.token";
  std::error_code ec;
  // A data dir we may not search (another user's daemon) is reported below, not skipped.
  if (!std::filesystem::exists(path, ec) && ec != std::errc::permission_denied) return std::optional<Token>();
  if (!ec && !std::filesystem::is_regular_file(path, ec)) {
    return FailedPrecondition("the local daemon's owner token " + path + " is not a regular file");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string why = errno ? std::strerror(errno) : "unreadable";
    return FailedPrecondition("cannot read the local daemon's owner token " + path + ": " + why +
                              " (pass --token or set PETABOX_TOKEN)");
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string value = Trim(contents.str());
  if (value.empty()) return std::optional<Token>();
  return std::optional<Token>(Token{value, TokenSource::kOwnerFile, path});
}

StatusOr<Token> DiscoverToken(const std::string& token_flag, const ClientEnv& env, const CliConfig& config,
                              const std::string& server, const std::string& data_dir_flag) {
  if (auto token = TokenFromFlag(token_flag)) return *token;
  if (auto token = TokenFromEnv(env)) return *token;
  if (auto token = TokenFromConfig(config)) return *token;
  const std::string data_dir = data_dir_flag.empty() ? DefaultDataDir(env) : data_dir_flag;
  PB_ASSIGN_OR_RETURN(std::optional<Token> owner, TokenFromOwnerFile(server, data_dir));
  if (owner) return *owner;
  return Token{};
}

std::string DescribeTokenSource(const Token& token) {
  switch (token.source) {
    case TokenSource::kNone: return "no token";
    case TokenSource::kFlag: return "--token";
    case TokenSource::kEnv: return "PETABOX_TOKEN";
    case TokenSource::kConfig: return "token in " + token.origin;
    case TokenSource::kOwnerFile: return "owner token " + token.origin;
  }
  return "no token";
}

}  // namespace petabox::client
