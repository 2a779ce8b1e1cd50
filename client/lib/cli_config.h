// The CLI config file: ~/.config/petabox/cli.yaml ($XDG_CONFIG_HOME/petabox/cli.yaml when
// XDG_CONFIG_HOME is set). Example:
//
//   server: box.example.com:7480
//   token: 6f1c...
//   tls_ca: box-ca.pem        # relative paths are relative to the config file's folder
//
// Thread-safe (pure functions).
#pragma once

#include <string>

#include "client/lib/environment.h"
#include "engine/util/status.h"

namespace petabox::client {

struct CliConfig {
  std::string path;    // the file it came from ("" when there was none)
  std::string server;  // HOST:PORT of the daemon; "" when not set
  std::string token;   // bearer token; "" when not set
  std::string tls_ca;  // PEM file of the CA that signed the daemon's certificate; "" when not set
};

// The config file's path for this environment ("" when neither XDG_CONFIG_HOME nor HOME is set).
std::string DefaultCliConfigPath(const ClientEnv& env);

// Reads the config at `path`. A missing file (or an empty path) is an empty config.
// InvalidArgument naming the file and key for unreadable files, malformed YAML, unknown
// keys and values that are not strings.
StatusOr<CliConfig> LoadCliConfig(const std::string& path);

}  // namespace petabox::client
