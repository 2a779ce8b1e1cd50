// JsonWriter: builds one JSON text with nesting, for the HTTP endpoints. Keys and strings
// are escaped; non-finite numbers and absent optionals are written as null.
//
// Thread-compatible. Usage:
//   JsonWriter w;
//   w.BeginObject().Key("devices").BeginArray().Value("CPU:0").EndArray().EndObject();
//   w.str();  // {"devices":["CPU:0"]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace petabox::daemon {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The next member's key (inside an object).
  JsonWriter& Key(const std::string& key);
  JsonWriter& Value(const std::string& s);
  JsonWriter& Value(const char* s) { return Value(std::string(s)); }
  JsonWriter& Value(double v);
  JsonWriter& Value(int64_t v);
  JsonWriter& Value(int v) { return Value(static_cast<int64_t>(v)); }
  JsonWriter& Value(bool v);
  JsonWriter& Null();
  template <typename T>
  JsonWriter& Value(const std::optional<T>& v) {
    return v ? Value(*v) : Null();
  }
  // Key then value.
  template <typename T>
  JsonWriter& Field(const std::string& key, const T& v) {
    return Key(key).Value(v);
  }

  const std::string& str() const { return out_; }

 private:
  void Separate();  // a comma before the second and later elements
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// `s` as a JSON string literal.
std::string JsonString(const std::string& s);

}  // namespace petabox::daemon
