// The project's one JSON module: nlohmann::json (Debian's header-only nlohmann-json3-dev;
// the engine-only build also finds a copy in .deps/nlohmann, see README "GPUs") and the few
// helpers its users share: parsing into a Status instead of an exception, with duplicate
// keys and deep nesting refused; dumping that never throws; a dump that is safe inside an
// HTML <script>; and string quoting. Used by the safetensors header (engine/nn/
// safetensors.cc), the worker's events, the CLI's --json output and the daemon's HTTP API.
//
// Thread-compatible: distinct Json values may be used from different threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/util/status.h"

namespace petabox::nn::json {

// Objects keep insertion (document) order: safetensors headers list tensors in file order,
// and outputs keep the order their writer chose.
using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;

// Parses one JSON document (surrounding whitespace allowed). InvalidArgument
// "JSON syntax error at byte N (line L, column C): ..." on a syntax error or invalid UTF-8,
// and "JSON syntax error: ..." naming a duplicate key in one object or nesting deeper than
// kMaxDepth.
StatusOr<Json> Parse(std::string_view text);

// `value` as compact JSON text (no spaces). Bytes of strings that are not UTF-8 are written
// as U+FFFD; it never throws.
std::string Dump(const Json& value);

// Dump, with '<' and '>' written as \u003c and \u003e, so the text is safe inside an HTML
// <script> element (no "</script>" can appear) and in pages that embed it.
std::string DumpForHtml(const Json& value);

// `s` as a JSON string literal: quotes added, '"', '\\' and control characters escaped,
// bytes that are not UTF-8 written as U+FFFD.
std::string Quote(std::string_view s);

// True when `s` is valid UTF-8 (JSON text must be; Dump and Quote replace what is not).
bool IsUtf8(std::string_view s);

// The value as a non-negative integer that fits in int64 (a JSON number written without
// sign, fraction or exponent); nullopt for anything else.
std::optional<int64_t> AsNonNegativeInt(const Json& value);

}  // namespace petabox::nn::json
