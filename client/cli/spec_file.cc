#include "client/cli/spec_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/graph/graph_proto.h"
#include "daemon/graph/onnx_import.h"

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

StatusOr<std::string> ReadSpecGraph(const std::string& spec_path, const std::string& spec_yaml) {
  std::string model, file;
  try {
    YAML::Node root = YAML::Load(spec_yaml);
    if (root["model"] && root["model"].IsScalar()) model = root["model"].as<std::string>();
    if (root["graph"] && root["graph"].IsScalar()) file = root["graph"].as<std::string>();
  } catch (const YAML::Exception& e) {
    return InvalidArgument(spec_path + ": " + e.what());
  }
  if (model != "graph") return std::string();
  if (file.empty()) return InvalidArgument(spec_path + ": graph: model 'graph' needs the graph file (graph: FILE)");
  std::filesystem::path path(file);
  if (path.is_relative()) path = std::filesystem::path(spec_path).parent_path() / path;
  // An ONNX model is imported here, on the tracing device; the daemon gets the graph.
  const bool onnx = path.extension() == ".onnx";
  PB_ASSIGN_OR_RETURN(graph::GraphIr g, onnx ? graph::ImportOnnxFile(path.string()) : graph::ReadGraphFile(path.string()));
  return graph::SerializeGraph(g);
}

}  // namespace petabox::cli
