#include "engine/nn/json.h"

#include <cstdio>
#include <unordered_set>

namespace petabox::nn::json {
namespace {

struct Literal {
  std::string_view word;
  Value::Kind kind;
  bool value;
};
constexpr Literal kLiterals[] = {
    {"true", Value::Kind::kBool, true}, {"false", Value::Kind::kBool, false}, {"null", Value::Kind::kNull, false}};

// Recursive descent over the text; every error names the byte offset.
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  StatusOr<Value> Document() {
    Value v;
    PB_RETURN_IF_ERROR(ParseValue(0, &v));
    SkipSpace();
    if (pos_ != s_.size()) return Error("trailing characters after the JSON value");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("JSON syntax error at byte " + std::to_string(pos_) + ": " + what);
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }

  Status ParseValue(int depth, Value* out) {
    if (depth > kMaxDepth) return Error("nesting deeper than " + std::to_string(kMaxDepth));
    SkipSpace();
    if (pos_ >= s_.size()) return Error("unexpected end of input, expected a value");
    char c = s_[pos_];
    if (c == '{') return ParseObject(depth, out);
    if (c == '[') return ParseArray(depth, out);
    if (c == '"') return out->kind = Value::Kind::kString, ParseString(&out->text);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    for (const Literal& l : kLiterals) {
      if (s_.substr(pos_, l.word.size()) == l.word) {
        pos_ += l.word.size();
        out->kind = l.kind;
        out->boolean = l.value;
        return Status::Ok();
      }
    }
    return Error(std::string("unexpected character '") + c + "', expected a value");
  }

  Status ParseObject(int depth, Value* out) {
    out->kind = Value::Kind::kObject;
    ++pos_;  // '{'
    std::unordered_set<std::string> keys;
    if (Consume('}')) return Status::Ok();
    do {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a string key");
      std::string key;
      PB_RETURN_IF_ERROR(ParseString(&key));
      if (!keys.insert(key).second) return Error("duplicate key " + Quote(key));
      if (!Consume(':')) return Error("expected ':' after key " + Quote(key));
      Value v;
      PB_RETURN_IF_ERROR(ParseValue(depth + 1, &v));
      out->object.emplace_back(std::move(key), std::move(v));
    } while (Consume(','));
    if (!Consume('}')) return Error("expected ',' or '}' in object");
    return Status::Ok();
  }

  Status ParseArray(int depth, Value* out) {
    out->kind = Value::Kind::kArray;
    ++pos_;  // '['
    if (Consume(']')) return Status::Ok();
    do {
      Value v;
      PB_RETURN_IF_ERROR(ParseValue(depth + 1, &v));
      out->array.push_back(std::move(v));
    } while (Consume(','));
    if (!Consume(']')) return Error("expected ',' or ']' in array");
    return Status::Ok();
  }

  Status ParseNumber(Value* out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - b;
    };
    if (s_[pos_] == '-') ++pos_;
    size_t int_start = pos_;
    size_t n = digits();
    if (n == 0) return Error("expected digits in number");
    if (n > 1 && s_[int_start] == '0') return Error("leading zero in number");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Error("expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Error("expected digits in exponent");
    }
    out->kind = Value::Kind::kNumber;
    out->text = std::string(s_.substr(start, pos_ - start));
    return Status::Ok();
  }

  Status ParseHex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    *out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return Error("bad hex digit in \\u escape");
      *out = *out * 16 + static_cast<uint32_t>(d);
    }
    return Status::Ok();
  }

  Status ParseEscape(std::string* out) {
    if (pos_ >= s_.size()) return Error("unterminated string");
    char e = s_[pos_++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out->push_back(e);
        return Status::Ok();
      case 'b':
        out->push_back('\b');
        return Status::Ok();
      case 'f':
        out->push_back('\f');
        return Status::Ok();
      case 'n':
        out->push_back('\n');
        return Status::Ok();
      case 'r':
        out->push_back('\r');
        return Status::Ok();
      case 't':
        out->push_back('\t');
        return Status::Ok();
      case 'u':
        break;
      default:
        return Error(std::string("bad escape '\\") + e + "'");
    }
    uint32_t cp;
    PB_RETURN_IF_ERROR(ParseHex4(&cp));
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("unpaired low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair encodes one code point
      uint32_t lo;
      if (s_.substr(pos_, 2) != "\\u") return Error("unpaired high surrogate in \\u escape");
      pos_ += 2;
      PB_RETURN_IF_ERROR(ParseHex4(&lo));
      if (lo < 0xDC00 || lo > 0xDFFF) return Error("bad low surrogate in \\u escape");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    AppendUtf8(cp, out);
    return Status::Ok();
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c == '\\') {
        PB_RETURN_IF_ERROR(ParseEscape(out));
      } else {
        out->push_back(c);
      }
    }
    return Error("unterminated string");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<int64_t> Value::AsNonNegativeInt() const {
  if (kind != Kind::kNumber || text.empty() || text.size() > 18) return std::nullopt;  // 18 digits fit int64
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

StatusOr<Value> Parse(std::string_view text) { return Parser(text).Document(); }

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "boolean";
    case Value::Kind::kNumber:
      return "number";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kObject:
      return "object";
  }
  return "?";
}

}  // namespace petabox::nn::json
