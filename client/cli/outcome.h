// How a petabox command ends: its exit code and the error line it prints. The exit codes
// are part of the CLI's interface (documented by ExitCodeHelp in `petabox --help`).
#pragma once

#include <string>

#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::cli {

inline constexpr int kExitOk = 0;
// Something unexpected inside petabox itself (a bug).
inline constexpr int kExitInternal = 1;
// Bad command line, or a file that cannot be read or written or is malformed (job spec,
// dataset, config file, token file, output file).
inline constexpr int kExitUsage = 2;
// The daemon answered with an error, could not be reached, or sent bad data.
inline constexpr int kExitServer = 3;
// The watched job ended FAILED or CANCELLED.
inline constexpr int kExitJobFailed = 4;

struct Outcome {
  int exit_code = kExitOk;
  // Printed to stderr as "petabox: ERROR" when not empty.
  std::string error;
};

Outcome Success();
// kExitUsage with the status's message.
Outcome UsageError(const Status& status);
// kExitServer with the gRPC code's name and the server's message
// ("UNAUTHENTICATED: bad token"); `hint` (when not empty) follows in parentheses.
Outcome ServerError(const Status& status, const std::string& hint = "");
// kExitOk for a job that ended SUCCEEDED (or has not ended), kExitJobFailed for FAILED and
// CANCELLED.
int ExitCodeForJobState(v1::Job::State state);

// The exit-code table for `petabox --help`.
std::string ExitCodeHelp();

}  // namespace petabox::cli
