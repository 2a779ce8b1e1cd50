// JSON output for --json: protobuf messages in their proto3 JSON form (proto field names,
// fields at their defaults included, enums by name, int64 as strings), one object per line.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace petabox::cli {

// One line of JSON (no trailing newline).
std::string ToJson(const google::protobuf::Message& message);

// `text` as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);

}  // namespace petabox::cli
