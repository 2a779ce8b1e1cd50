// petabox.v1.JobService over the JobManager and the JobStore: a thin adapter that checks
// the caller, names resources and maps errors; the logic lives in daemon/jobs. The owner
// sees every job; a tenant only its own (another's answers NOT_FOUND, as a missing job
// does). CreateJob and CancelJob are written to the audit log.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include "daemon/auth/authenticator.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/service/audit_log.h"
#include "daemon/store/job_store.h"
#include "petabox/v1/job.grpc.pb.h"

namespace petabox::daemon {

class JobServiceImpl final : public v1::JobService::Service {
 public:
  JobServiceImpl(JobManager* manager, JobStore* store, const Authenticator* auth, const AuditLog* audit)
      : manager_(manager), store_(store), auth_(auth), audit_(audit) {}

  grpc::Status CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request, v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request, v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request, v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override;
  grpc::Status GetJobLogs(grpc::ServerContext* context, const v1::GetJobLogsRequest* request,
                          v1::GetJobLogsResponse* response) override;
  grpc::Status DownloadCheckpoint(grpc::ServerContext* context, const v1::DownloadCheckpointRequest* request,
                                  grpc::ServerWriter<v1::CheckpointChunk>* writer) override;

 private:
  JobManager* const manager_;
  JobStore* const store_;
  const Authenticator* const auth_;
  const AuditLog* const audit_;
};

// Checks a "jobs/{job}" name; InvalidArgument otherwise.
Status CheckJobName(const std::string& name);

}  // namespace petabox::daemon
