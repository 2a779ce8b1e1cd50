#include "client/cli/outcome.h"

#include "client/lib/status_mapping.h"

namespace petabox::cli {

Outcome Success() { return Outcome{}; }

Outcome UsageError(const Status& status) { return Outcome{kExitUsage, status.message()}; }

Outcome ServerError(const Status& status, const std::string& hint) {
  std::string error = client::DescribeRpcError(status);
  if (!hint.empty()) error += " (" + hint + ")";
  return Outcome{kExitServer, error};
}

int ExitCodeForJobState(v1::Job::State state) {
  return state == v1::Job::FAILED || state == v1::Job::CANCELLED ? kExitJobFailed : kExitOk;
}

std::string ExitCodeHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  internal error in petabox\n"
         "  2  usage error: bad command line, or a file that cannot be read, written or parsed\n"
         "  3  server or connection error (printed as \"petabox: CODE: message\")\n"
         "  4  the job ended FAILED or CANCELLED (submit --watch, watch)\n"
         "\n"
         "Server: --server, $PETABOX_SERVER, `server` in ~/.config/petabox/cli.yaml, else 127.0.0.1:7480.\n"
         "Token: --token, $PETABOX_TOKEN, `token` in the config file, else (loopback server only)\n"
         "DATA_DIR/owner.token with DATA_DIR = --data-dir or $XDG_DATA_HOME/petabox or ~/.local/share/petabox.";
}

}  // namespace petabox::cli
