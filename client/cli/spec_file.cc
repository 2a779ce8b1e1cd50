#include "client/cli/spec_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/graph/graph_proto.h"
#include "daemon/graph/onnx_import.h"

namespace petabox::cli {

StatusOr<SpecFile> ReadJobSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read job spec " + path);
  std::ostringstream text;
  text << in.rdbuf();
  SpecFile file;
  file.yaml = text.str();
  if (file.yaml.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument(path + ": the job spec is empty (a YAML mapping: name:, model:, dataset:, ...)");
  }
  worker::SpecParseOptions options;
  options.check_devices = false;  // the daemon's devices, not this machine's
  PB_ASSIGN_OR_RETURN(file.spec, worker::ParseJobSpec(file.yaml, path, options));
  return file;
}

StatusOr<std::string> ReadSpecGraph(const std::string& spec_path, const worker::JobSpec& spec) {
  if (spec.model != "graph") return std::string();
  std::filesystem::path path(spec.graph);  // not empty: the spec was validated
  if (path.is_relative()) path = std::filesystem::path(spec_path).parent_path() / path;
  // An ONNX model is imported here, on the tracing device; the daemon gets the graph.
  const bool onnx = path.extension() == ".onnx";
  PB_ASSIGN_OR_RETURN(graph::GraphIr g, onnx ? graph::ImportOnnxFile(path.string()) : graph::ReadGraphFile(path.string()));
  return graph::SerializeGraph(g);
}

}  // namespace petabox::cli
