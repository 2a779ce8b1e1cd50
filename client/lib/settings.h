// ClientSettings: where to connect and with what credentials, resolved from the command
// line, the environment and the CLI config file. Precedence per setting:
//   server: --server, $PETABOX_SERVER, config `server`, 127.0.0.1:7480;
//   token:  see client/lib/token.h;
//   tls_ca: --tls-ca, config `tls_ca`; none means an insecure channel.
//
// Thread-safe (pure functions).
#pragma once

#include <string>

#include "client/lib/cli_config.h"
#include "client/lib/environment.h"
#include "client/lib/token.h"
#include "engine/util/status.h"

namespace petabox::client {

inline constexpr char kDefaultServer[] = "127.0.0.1:7480";

// What the user passed on the command line ("" for options not given).
struct ClientFlags {
  std::string server;
  std::string token;
  std::string data_dir;
  std::string tls_ca;
};

struct ClientSettings {
  std::string server;  // HOST:PORT
  Token token;         // source kNone: calls carry no authorization metadata
  std::string tls_ca;  // PEM file; "" means insecure
};

// The server address by the precedence above.
std::string ResolveServer(const std::string& server_flag, const ClientEnv& env, const CliConfig& config);

// All settings by the precedence above; fails only as DiscoverToken does.
StatusOr<ClientSettings> ResolveSettings(const ClientFlags& flags, const ClientEnv& env, const CliConfig& config);

}  // namespace petabox::client
