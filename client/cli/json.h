// JSON output for --json, one object per line: protobuf messages in their proto3 JSON form
// (proto field names, fields at their defaults included, enums by name, int64 as strings),
// and other objects built as nn::json::Json (engine/nn/json.h, the project's JSON module).
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "engine/nn/json.h"

namespace petabox::cli {

// One line of JSON (no trailing newline).
std::string ToJson(const google::protobuf::Message& message);

// One line of JSON (no trailing newline); text that is not UTF-8 is written as U+FFFD.
std::string ToJson(const nn::json::Json& value);

}  // namespace petabox::cli
