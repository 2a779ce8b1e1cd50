// CommandContext: what every command shares: the global options and, on first use, the
// connection they describe (config file read, token discovered, channel made).
//
// Thread-compatible; one per process, made in main.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "client/cli/outcome.h"
#include "client/lib/connection.h"
#include "client/lib/environment.h"
#include "client/lib/settings.h"
#include "engine/util/status.h"

namespace petabox::cli {

struct GlobalOptions {
  client::ClientFlags flags;  // --server, --token, --data-dir, --tls-ca
  bool json = false;          // --json
};

// A parsed command, ready to run.
using Action = std::function<Outcome()>;

class CommandContext {
 public:
  explicit CommandContext(client::ClientEnv env) : env_(std::move(env)) {}

  GlobalOptions& options() { return options_; }
  bool json() const { return options_.json; }

  // The connection, opened on the first call. InvalidArgument or FailedPrecondition (to be
  // reported as usage errors) for a bad config file, CA file or unreadable token file.
  StatusOr<const client::Connection*> Connect();

  // ServerError for a failed call, with a hint where one helps: the token's source for
  // UNAUTHENTICATED, the address for UNAVAILABLE.
  Outcome RpcFailure(const Status& status) const;

 private:
  client::ClientEnv env_;
  GlobalOptions options_;
  client::ClientSettings settings_;
  std::unique_ptr<client::Connection> connection_;
};

}  // namespace petabox::cli
