// JobClient: JobService calls over a Connection, with gRPC statuses turned into petabox
// Status values (client/lib/status_mapping.h: the server's message, the gRPC code kept).
//
// Thread-safe as the Connection is; the Connection must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "client/lib/connection.h"
#include "client/lib/retry.h"
#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::client {

class JobClient {
 public:
  explicit JobClient(const Connection& connection) : connection_(connection) {}

  // CreateJob once. `request_id` may be "" (not idempotent then).
  StatusOr<v1::Job> CreateJob(const v1::Job& job, const std::string& request_id) const;
  // CreateJob with the same request_id until it succeeds or fails for a reason other than
  // UNAVAILABLE / DEADLINE_EXCEEDED (client/lib/retry.h); the daemon makes one job at most.
  StatusOr<v1::Job> CreateJobWithRetry(const v1::Job& job, const std::string& request_id,
                                       const RetryPolicy& policy) const;
  StatusOr<v1::Job> GetJob(const std::string& name) const;
  // One page (request.page_token from the previous page's next_page_token).
  StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request) const;
  StatusOr<v1::Job> CancelJob(const std::string& name) const;
  StatusOr<v1::GetJobLogsResponse> GetJobLogs(const std::string& name, int64_t after_line, int max_lines) const;

  // Streams the job's events after `after_sequence` into on_event. OK when the stream ended
  // OK (after the event that ended the job); the stream's error when it broke; on_event's
  // first error (the stream is cancelled) when that failed.
  Status WatchJob(const std::string& name, int64_t after_sequence,
                  const std::function<Status(const v1::JobEvent&)>& on_event) const;
  // Streams the job's latest checkpoint into on_chunk; results as for WatchJob.
  Status DownloadCheckpoint(const std::string& name,
                            const std::function<Status(const v1::CheckpointChunk&)>& on_chunk) const;

 private:
  const Connection& connection_;
};

}  // namespace petabox::client
