// Reading petabox-worker's JSON-lines events (daemon/worker/runner.h lists them) into the
// API's messages.
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include <google/protobuf/struct.pb.h>

#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

struct WorkerEvent {
  std::string type;                  // "started", "progress", "eval", "checkpoint", "done", ...
  google::protobuf::Struct fields;   // every field of the line
  double Number(const std::string& key) const;       // 0 when absent or not a number
  std::string String(const std::string& key) const;  // "" when absent or not a string
};

// InvalidArgument for a line that is not a JSON object with a string "event".
StatusOr<WorkerEvent> ParseWorkerEvent(const std::string& line);

v1::JobProgress ToProgress(const WorkerEvent& event);
v1::EvalResult ToEval(const WorkerEvent& event);
v1::JobResult ToResult(const WorkerEvent& event);

}  // namespace petabox::daemon
