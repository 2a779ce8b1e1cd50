// A JobSpec (daemon/worker/job_spec.h) as the typed message that crosses processes and is
// stored (proto/petabox/v1/job_spec.proto), and back. Conversions only: nothing is parsed
// or validated here (a JobSpec is validated once, where its YAML was parsed).
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "daemon/worker/job_spec.h"
#include "engine/util/status.h"
#include "petabox/v1/job_spec.pb.h"

namespace petabox::worker {

// Every field set.
v1::JobSpec JobSpecToProto(const JobSpec& spec);
// Fields absent from `proto` keep JobSpec's defaults.
JobSpec JobSpecFromProto(const v1::JobSpec& proto);

// Writes JobSpecToProto(spec), serialized, to `path` (replaced atomically: a temporary
// file beside it, then a rename). Unavailable when it cannot be written.
Status WriteJobSpecFile(const std::string& path, const JobSpec& spec);
// Reads a file WriteJobSpecFile wrote. NotFound when it cannot be read; InvalidArgument
// when it does not parse as a petabox.v1.JobSpec.
StatusOr<JobSpec> ReadJobSpecFile(const std::string& path);

}  // namespace petabox::worker
