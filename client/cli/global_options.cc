#include "client/cli/commands.h"

namespace petabox::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.add_option("--server", options.flags.server,
                 "Daemon address HOST:PORT (default: $PETABOX_SERVER, config file, 127.0.0.1:7480)");
  app.add_option("--token", options.flags.token, "Bearer token (default: $PETABOX_TOKEN, config file, owner token)");
  app.add_option("--data-dir", options.flags.data_dir,
                 "Local daemon's data dir, for its owner.token (default: $XDG_DATA_HOME/petabox or "
                 "~/.local/share/petabox)");
  app.add_option("--tls-ca", options.flags.tls_ca, "PEM CA file: connect with TLS (default: config file; else plaintext)");
  app.add_flag("--json", options.json, "Print machine-readable JSON (one object per line)");
}

}  // namespace petabox::cli
