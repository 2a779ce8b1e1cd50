#include "client/cli/spec_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace petabox::cli {

StatusOr<std::string> ReadJobSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read job spec " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    YAML::Node root = YAML::Load(text.str());
    if (!root.IsMap()) return InvalidArgument(path + ": a job spec is a YAML mapping (name:, model:, dataset:, ...)");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return text.str();
}

}  // namespace petabox::cli
