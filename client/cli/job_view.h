// Views of jobs for people: the `jobs` table, the `status` details, and parsing of state
// names given on the command line. Pure functions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "client/cli/table.h"
#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::cli {

// Columns NAME, STATE, DISPLAY NAME, DEVICES, STEP/TOTAL, LOSS, AGE; one row per job.
// DEVICES lists the devices a running job holds, else the number it asked for.
Table JobsTable(const std::vector<v1::Job>& jobs, const google::protobuf::Timestamp& now);

// "Name:  jobs/j-1\nState: RUNNING\n..." with progress, failure reason and result where
// the job has them.
std::string RenderJobDetails(const v1::Job& job, const google::protobuf::Timestamp& now);

// "running", "RUNNING" -> Job::RUNNING. InvalidArgument naming the valid states otherwise.
StatusOr<std::vector<v1::Job::State>> ParseJobStates(const std::vector<std::string>& names);

}  // namespace petabox::cli
