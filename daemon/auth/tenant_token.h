// Tenant tokens: 256 random bits from the kernel's CSPRNG (getrandom), shown to the owner
// once, stored only as their SHA-256 (a leaked job store gives no usable token).
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::daemon {

// Prefix of every tenant token (the owner token has none), so a log line or a support
// message can tell which kind of token was meant without showing it.
inline constexpr char kTenantTokenPrefix[] = "pbt_";

// "pbt_" and 64 hex digits of getrandom(2) output. Unavailable when the kernel gives no
// randomness.
StatusOr<std::string> NewTenantToken();

// The lowercase hex SHA-256 of the token: what the store keeps and looks tokens up by.
std::string HashTenantToken(const std::string& token);

// Checks a tenant name: lowercase letters, digits and '-', 1..32 characters, starting with
// a letter, not "owner". InvalidArgument naming the rule otherwise.
Status ValidateTenantName(const std::string& name);

}  // namespace petabox::daemon
