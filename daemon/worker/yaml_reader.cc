#include "daemon/worker/yaml_reader.h"

#include <algorithm>
#include <cmath>

#include <yaml-cpp/yaml.h>

namespace petabox::worker {
namespace {

std::string Location(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "(line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ")";
}

// How a value that failed to convert looks, for messages.
std::string Shown(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  return "'" + node.Scalar() + "'";
}

// A finite number into *out (unchanged on failure).
bool DecodeFinite(const YAML::Node& node, double* out) {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<YAML::Node>> ParseYaml(const std::string& text, const std::string& source) {
  try {
    return std::make_unique<YAML::Node>(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

YamlMapReader::YamlMapReader(const YAML::Node& node, std::string path, KeyLocations* locations)
    : node_(std::make_unique<YAML::Node>(node)), path_(std::move(path)), locations_(locations) {
  if (!node_->IsNull() && !node_->IsMap()) {
    Fail(path_.empty() ? "<document>" : path_, "must be a mapping of keys to values, got " + Shown(*node_), *node_);
  }
}

YamlMapReader::~YamlMapReader() = default;

std::string YamlMapReader::Join(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

void YamlMapReader::Fail(const std::string& path, const std::string& reason, const YAML::Node& at) {
  if (!status_.ok()) return;  // keep the first error
  std::string where = Location(at.Mark());
  status_ = InvalidArgument(path + ": " + reason + (where.empty() ? "" : " " + where));
}

std::unique_ptr<YAML::Node> YamlMapReader::Find(const char* key) {
  known_.push_back(key);
  if (!status_.ok() || !node_->IsMap()) return nullptr;
  const YAML::Node& map = *node_;
  YAML::Node value = map[key];
  if (!value.IsDefined()) return nullptr;
  (*locations_)[Join(key)] = Location(value.Mark());
  return std::make_unique<YAML::Node>(value);
}

template <typename T>
void YamlMapReader::ReadScalar(const char* key, const char* what, T* out) {
  std::unique_ptr<YAML::Node> value = Find(key);
  if (!value) return;
  T parsed{};
  if (!value->IsScalar() || !YAML::convert<T>::decode(*value, parsed)) {
    Fail(Join(key), std::string("must be ") + what + ", got " + Shown(*value), *value);
    return;
  }
  *out = parsed;
}

void YamlMapReader::Read(const char* key, std::string* out) { ReadScalar(key, "a string", out); }
void YamlMapReader::Read(const char* key, int64_t* out) { ReadScalar(key, "an integer", out); }
void YamlMapReader::Read(const char* key, uint64_t* out) { ReadScalar(key, "a non-negative integer", out); }
void YamlMapReader::Read(const char* key, bool* out) { ReadScalar(key, "true or false", out); }

void YamlMapReader::Read(const char* key, double* out) {
  std::unique_ptr<YAML::Node> value = Find(key);
  if (!value) return;
  if (!DecodeFinite(*value, out)) Fail(Join(key), "must be a finite number, got " + Shown(*value), *value);
}

void YamlMapReader::Read(const char* key, std::array<double, 2>* out) {
  std::unique_ptr<YAML::Node> value = Find(key);
  if (!value) return;
  if (!value->IsSequence() || value->size() != 2) {
    Fail(Join(key), "must be a list of 2 numbers, got " + Shown(*value), *value);
    return;
  }
  for (size_t i = 0; i < 2; ++i) {
    const YAML::Node item = (*value)[i];
    if (!DecodeFinite(item, &(*out)[i])) {
      Fail(Join(key) + "[" + std::to_string(i) + "]", "must be a finite number, got " + Shown(item), item);
      return;
    }
  }
}

void YamlMapReader::Read(const char* key, std::vector<std::string>* out) {
  std::unique_ptr<YAML::Node> value = Find(key);
  if (!value) return;
  if (!value->IsSequence()) {
    Fail(Join(key), "must be a list of strings, got " + Shown(*value), *value);
    return;
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < value->size(); ++i) {
    const YAML::Node item = (*value)[i];
    if (!item.IsScalar()) {
      Fail(Join(key) + "[" + std::to_string(i) + "]", "must be a string, got " + Shown(item), item);
      return;
    }
    (*locations_)[Join(key) + "[" + std::to_string(i) + "]"] = Location(item.Mark());
    items.push_back(item.Scalar());
  }
  *out = std::move(items);
}

void YamlMapReader::ReadMap(const char* key, const std::function<void(YamlMapReader&)>& read) {
  std::unique_ptr<YAML::Node> value = Find(key);
  if (!value) return;
  YamlMapReader child(*value, Join(key), locations_);
  read(child);
  Status s = child.Finish();
  if (!s.ok() && status_.ok()) status_ = s;
}

Status YamlMapReader::Finish() {
  if (!status_.ok() || !node_->IsMap()) return status_;
  std::vector<std::string> seen;
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : Shown(it->first);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      // yaml-cpp keeps the first of duplicate keys; a silently ignored value is worse than an error.
      Fail(Join(key.c_str()), "appears twice in the same mapping", it->first);
      break;
    }
    seen.push_back(key);
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string known;
    for (const std::string& k : known_) known += (known.empty() ? "" : ", ") + k;
    Fail(Join(key.c_str()), "unknown key (known keys: " + known + ")", it->first);
    break;
  }
  return status_;
}

}  // namespace petabox::worker
