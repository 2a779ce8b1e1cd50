// Reading a job spec file for `petabox submit`.
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::cli {

// The file's text, after checking that it is YAML with a mapping at the top (the daemon
// checks the keys). InvalidArgument naming the file (and line, for YAML errors) otherwise.
StatusOr<std::string> ReadJobSpec(const std::string& path);

}  // namespace petabox::cli
