// Reading YAML mappings into plain config structs with messages a person can act on:
// every error names the key path ("optimizer.betas[1]") and the line and column of the
// offending value. Used by the job spec parser; meant for the daemon's config file too.
// yaml-cpp's exceptions stay inside this module.
//
// Thread-compatible: one reader per thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace YAML {
class Node;
}

namespace petabox::worker {

// Where each key path's value sits in the text: "(line L, column C)", 1-based.
using KeyLocations = std::map<std::string, std::string>;

// Parses `text` into a document. InvalidArgument "<source>: YAML syntax error at line L,
// column C: <what>" for malformed YAML.
StatusOr<std::unique_ptr<YAML::Node>> ParseYaml(const std::string& text, const std::string& source);

// Reads the keys of one mapping. Each Read names a known key; a key that is absent leaves
// the field at its default. Finish() reports the first error, or else the first key that
// no Read named. A null node (an empty document) reads as an empty mapping.
class YamlMapReader {
 public:
  // `path` is the mapping's key path ("" for the document root). `locations` collects
  // where every value read sits; it must outlive the reader.
  YamlMapReader(const YAML::Node& node, std::string path, KeyLocations* locations);
  ~YamlMapReader();

  void Read(const char* key, std::string* out);
  void Read(const char* key, int64_t* out);
  void Read(const char* key, uint64_t* out);
  void Read(const char* key, double* out);
  void Read(const char* key, bool* out);
  void Read(const char* key, std::array<double, 2>* out);
  void Read(const char* key, std::vector<std::string>* out);
  // Reads a nested mapping through `read`, which gets a reader for it.
  void ReadMap(const char* key, const std::function<void(YamlMapReader&)>& read);

  // OK, or InvalidArgument "<path>: <reason> (line L, column C)".
  Status Finish();

 private:
  template <typename T>
  void ReadScalar(const char* key, const char* what, T* out);
  // The value node of `key` (marked as known and located), or null when absent or after an error.
  std::unique_ptr<YAML::Node> Find(const char* key);
  void Fail(const std::string& path, const std::string& reason, const YAML::Node& at);
  std::string Join(const char* key) const;

  std::unique_ptr<YAML::Node> node_;
  const std::string path_;
  KeyLocations* const locations_;
  std::vector<std::string> known_;
  Status status_;
};

}  // namespace petabox::worker
