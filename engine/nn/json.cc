#include "engine/nn/json.h"

#include <limits>
#include <unordered_set>
#include <vector>

namespace petabox::nn::json {
namespace {

// Thrown by the parser callback to stop parsing at a duplicate key or excessive nesting;
// caught in Parse (no exception leaves this file).
struct Refused {
  std::string why;
};

// nlohmann's parser callback: refuses what nlohmann accepts but we do not (a duplicate key
// would silently replace the first value; deep nesting costs stack in destructors and
// printers).
class Checker {
 public:
  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        keys_.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (++depth_ > kMaxDepth) throw Refused{"nesting deeper than " + std::to_string(kMaxDepth)};
        break;
      case Json::parse_event_t::object_end:
        keys_.pop_back();
        [[fallthrough]];
      case Json::parse_event_t::array_end:
        --depth_;
        break;
      case Json::parse_event_t::key:
        if (!keys_.back().insert(parsed.get_ref<const std::string&>()).second) {
          throw Refused{"duplicate key " + Quote(parsed.get_ref<const std::string&>())};
        }
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  }

 private:
  int depth_ = 0;
  std::vector<std::unordered_set<std::string>> keys_;  // per open object
};

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1,
// column 5: " prefix (the position is reported separately).
std::string SyntaxMessage(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  size_t bracket = what.find("] ");
  if (bracket != std::string::npos) what = what.substr(bracket + 2);
  size_t colon = what.find(": ");
  if (what.rfind("parse error", 0) == 0 && colon != std::string::npos) what = what.substr(colon + 2);
  return what;
}

// " (line L, column C)" from nlohmann's message, or "".
std::string Position(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  size_t at = what.find(" at line ");
  size_t colon = what.find(": ", at == std::string::npos ? 0 : at);
  if (at == std::string::npos || colon == std::string::npos) return "";
  return " (" + what.substr(at + 4, colon - at - 4) + ")";
}

}  // namespace

StatusOr<Json> Parse(std::string_view text) {
  Checker checker;
  try {
    return Json::parse(text.data(), text.data() + text.size(), std::ref(checker));
  } catch (const Refused& r) {
    return InvalidArgument("JSON syntax error: " + r.why);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument("JSON syntax error at byte " + std::to_string(e.byte) + Position(e) + ": " +
                           SyntaxMessage(e));
  }
}

std::string Dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string DumpForHtml(const Json& value) {
  // '<' and '>' only occur inside strings, where \u003c and \u003e mean the same.
  std::string text = Dump(value);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Quote(std::string_view s) { return Dump(Json(std::string(s))); }

bool IsUtf8(std::string_view s) {
  try {
    (void)Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::strict);
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

std::optional<int64_t> AsNonNegativeInt(const Json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  uint64_t v = value.get<uint64_t>();
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace petabox::nn::json
