// Small helpers shared by petabox-bench's subcommands: flag parsing and JSON output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace petabox::bench {

// "--name" -> "value", as given on the command line after the subcommand.
using Flags = std::map<std::string, std::string>;

// Positive integer flag `name` (or `fallback` when absent), removed from `flags`; nullopt
// when malformed or not positive.
std::optional<int64_t> IntFlag(Flags& flags, const std::string& name, std::optional<int64_t> fallback);

// A JSON number ("%.6g"), or null (also for NaN and infinities, which JSON cannot hold).
std::string Num(std::optional<double> v);

// A JSON string literal (quotes and backslashes escaped, control characters dropped).
std::string Quote(const std::string& s);

}  // namespace petabox::bench
