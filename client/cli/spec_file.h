// Reading a job spec file for `petabox submit`.
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::cli {

// The file's text, after checking that it is YAML with a mapping at the top (the daemon
// checks the keys). InvalidArgument naming the file (and line, for YAML errors) otherwise.
StatusOr<std::string> ReadJobSpec(const std::string& path);

// The graph a spec trains, for `model: graph`: the file its `graph:` key names (relative
// to the spec file's directory), read and validated (a petabox.v1.Graph; graph_proto.h),
// or for a *.onnx file imported (onnx_import.h), as bytes to send with the job. "" for other models. InvalidArgument naming the file and
// the graph's node at fault; NotFound for a missing file.
StatusOr<std::string> ReadSpecGraph(const std::string& spec_path, const std::string& spec_yaml);

}  // namespace petabox::cli
