// Bearer tokens. The owner token is created at the daemon's first start in
// DATA_DIR/owner.token (mode 0600: only the daemon's user, and the CLI run by that user,
// can read it) and kept across restarts.
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::daemon {

// Reads DATA_DIR/owner.token, or creates it with 32 random bytes (hex) from /dev/urandom.
// Unavailable when the file cannot be read or written; FailedPrecondition when it exists
// but is readable by other users (mode not 0600) or is empty.
StatusOr<std::string> LoadOrCreateOwnerToken(const std::string& data_dir);

// Compares in time independent of where the strings differ.
bool TokensEqual(const std::string& a, const std::string& b);

// The token of an "authorization" metadata value "Bearer TOKEN"; "" when malformed.
std::string BearerToken(const std::string& authorization);

}  // namespace petabox::daemon
