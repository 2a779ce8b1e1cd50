// Reading a job spec file for `petabox submit`: the YAML is parsed and validated once here,
// before anything is sent, and the typed spec answers what the CLI needs to know (the
// graph to send with `model: graph`).
#pragma once

#include <string>

#include "daemon/worker/job_spec.h"
#include "engine/util/status.h"

namespace petabox::cli {

struct SpecFile {
  std::string yaml;       // the file's text, sent as it is (Job.spec_yaml)
  worker::JobSpec spec;   // what it says, validated
};

// Reads and validates the spec at `path` (worker::ParseJobSpec; device names are the
// daemon's to check, not this machine's). InvalidArgument naming the file (with the key,
// line and column for a bad value or YAML error) when it cannot be read, is empty, or is
// not a valid spec; Unimplemented for a precision not supported yet.
StatusOr<SpecFile> ReadJobSpec(const std::string& path);

// The graph a spec trains, for `model: graph`: the file its `graph:` key names (relative
// to the spec file's directory), read and validated (a petabox.v1.Graph; graph_proto.h),
// or for a *.onnx file imported (onnx_import.h), as bytes to send with the job. "" for
// other models. InvalidArgument naming the file and the graph's node at fault; NotFound
// for a missing file.
StatusOr<std::string> ReadSpecGraph(const std::string& spec_path, const worker::JobSpec& spec);

}  // namespace petabox::cli
