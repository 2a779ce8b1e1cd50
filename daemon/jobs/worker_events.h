// The worker protocol's events (petabox.v1.WorkerEvent, proto/petabox/v1/worker.proto) as
// the job API's messages (job.proto): field by field, typed, nothing parsed.
//
// Thread-safe (no shared state).
#pragma once

#include "petabox/v1/job.pb.h"
#include "petabox/v1/worker.pb.h"

namespace petabox::daemon {

v1::JobProgress ToProgress(const v1::WorkerProgress& progress);
v1::EvalResult ToEval(const v1::WorkerEval& eval);
v1::CheckpointSaved ToCheckpointSaved(const v1::WorkerCheckpoint& checkpoint);
v1::JobResult ToResult(const v1::RunSummary& summary);

}  // namespace petabox::daemon
