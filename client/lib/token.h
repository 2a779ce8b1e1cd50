// Bearer token discovery. The sources, in the order DiscoverToken tries them:
//   1. the --token flag;
//   2. $PETABOX_TOKEN;
//   3. `token` in the CLI config file (client/lib/cli_config.h);
//   4. only when the server is a loopback address (127.x, localhost, [::1]): the local
//      daemon's owner token, DATA_DIR/owner.token, where DATA_DIR is --data-dir or the
//      daemon's default data dir ($XDG_DATA_HOME/petabox, else $HOME/.local/share/petabox).
// Each source is a plain function of its inputs.
//
// Thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include "client/lib/cli_config.h"
#include "client/lib/environment.h"
#include "engine/util/status.h"

namespace petabox::client {

enum class TokenSource { kNone, kFlag, kEnv, kConfig, kOwnerFile };

struct Token {
  std::string value;                      // "" when no source had one
  TokenSource source = TokenSource::kNone;
  std::string origin;                     // for messages: "--token", "PETABOX_TOKEN", a file path
};

std::optional<Token> TokenFromFlag(const std::string& flag);
std::optional<Token> TokenFromEnv(const ClientEnv& env);
std::optional<Token> TokenFromConfig(const CliConfig& config);

// The daemon's default data directory: $XDG_DATA_HOME/petabox, else
// $HOME/.local/share/petabox ("" when neither is set).
std::string DefaultDataDir(const ClientEnv& env);

// Whether `server` (HOST:PORT, HOST, [V6]:PORT, optionally with a "dns:///", "ipv4:" or
// "ipv6:" scheme) names this machine through a loopback address.
bool IsLoopbackServer(const std::string& server);

// The token in DATA_DIR/owner.token (surrounding whitespace removed), when `server` is a
// loopback address and the file exists and is not empty; nullopt otherwise.
// FailedPrecondition naming the file when it exists but cannot be read (another user's
// daemon: pass --token).
StatusOr<std::optional<Token>> TokenFromOwnerFile(const std::string& server, const std::string& data_dir);

// The first source above that has a token; a Token with source kNone when none has.
// `data_dir_flag` is --data-dir ("" for the default). Fails only as TokenFromOwnerFile does.
StatusOr<Token> DiscoverToken(const std::string& token_flag, const ClientEnv& env, const CliConfig& config,
                              const std::string& server, const std::string& data_dir_flag);

// "--token", "PETABOX_TOKEN", "token in FILE", "owner token FILE", "no token".
std::string DescribeTokenSource(const Token& token);

}  // namespace petabox::client
