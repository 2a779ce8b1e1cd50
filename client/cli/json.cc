#include "client/cli/json.h"

#include <google/protobuf/util/json_util.h>

namespace petabox::cli {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a well-formed message cannot fail; an empty object is the fallback.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

std::string ToJson(const nn::json::Json& value) { return nn::json::Dump(value); }

}  // namespace petabox::cli
