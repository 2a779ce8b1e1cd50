// A minimal JSON reader, just enough for safetensors headers, and the project's one JSON
// string quoting (the worker's events and the CLI use Quote too). Not a general JSON
// library: objects keep document order, numbers keep
// their text (integers must be read exactly), nesting is limited to kMaxDepth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/util/status.h"

namespace petabox::nn::json {

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // kString: the decoded string; kNumber: the literal as written
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // document order; keys unique

  // The number as a non-negative integer that fits in int64 (no fraction/exponent/sign).
  std::optional<int64_t> AsNonNegativeInt() const;
};

constexpr int kMaxDepth = 64;

// Parses one JSON document (surrounding whitespace allowed). InvalidArgument with the byte
// offset and what was expected on a syntax error, a duplicate key or excessive nesting.
StatusOr<Value> Parse(std::string_view text);

// `s` as a JSON string literal (quotes added; '"', '\\' and control characters escaped).
std::string Quote(std::string_view s);

// "string", "number", ... for error messages.
const char* KindName(Value::Kind kind);

}  // namespace petabox::nn::json
