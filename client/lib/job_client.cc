#include "client/lib/job_client.h"

#include "client/lib/status_mapping.h"
#include "client/lib/stream_util.h"

namespace petabox::client {
namespace {

// A unary call's response, or its status as a petabox Status. Takes the response by
// pointer: it must be read after the call has filled it.
template <typename Response>
StatusOr<Response> Finish(const grpc::Status& status, Response* response) {
  if (!status.ok()) return FromGrpcStatus(status);
  return std::move(*response);
}

}  // namespace

StatusOr<v1::Job> JobClient::CreateJob(const v1::Job& job, const std::string& request_id) const {
  v1::CreateJobRequest request;
  *request.mutable_job() = job;
  request.set_request_id(request_id);
  v1::Job response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.jobs().CreateJob(context.get(), request, &response);
  return Finish(status, &response);
}

StatusOr<v1::Job> JobClient::CreateJobWithRetry(const v1::Job& job, const std::string& request_id,
                                                const RetryPolicy& policy) const {
  return CallWithRetry<v1::Job>(policy, [&] { return CreateJob(job, request_id); });
}

StatusOr<v1::Job> JobClient::GetJob(const std::string& name) const {
  v1::GetJobRequest request;
  request.set_name(name);
  v1::Job response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.jobs().GetJob(context.get(), request, &response);
  return Finish(status, &response);
}

StatusOr<v1::ListJobsResponse> JobClient::ListJobs(const v1::ListJobsRequest& request) const {
  v1::ListJobsResponse response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.jobs().ListJobs(context.get(), request, &response);
  return Finish(status, &response);
}

StatusOr<v1::Job> JobClient::CancelJob(const std::string& name) const {
  v1::CancelJobRequest request;
  request.set_name(name);
  v1::Job response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.jobs().CancelJob(context.get(), request, &response);
  return Finish(status, &response);
}

StatusOr<v1::GetJobLogsResponse> JobClient::GetJobLogs(const std::string& name, int64_t after_line,
                                                        int max_lines) const {
  v1::GetJobLogsRequest request;
  request.set_name(name);
  request.set_after_line(after_line);
  request.set_max_lines(max_lines);
  v1::GetJobLogsResponse response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.jobs().GetJobLogs(context.get(), request, &response);
  return Finish(status, &response);
}

Status JobClient::WatchJob(const std::string& name, int64_t after_sequence,
                           const std::function<Status(const v1::JobEvent&)>& on_event) const {
  v1::WatchJobRequest request;
  request.set_name(name);
  request.set_after_sequence(after_sequence);
  auto context = connection_.NewContext(CallKind::kStream);
  auto reader = connection_.jobs().WatchJob(context.get(), request);
  return internal::DrainStream(*context, *reader, on_event);
}

Status JobClient::DownloadCheckpoint(const std::string& name,
                                     const std::function<Status(const v1::CheckpointChunk&)>& on_chunk) const {
  v1::DownloadCheckpointRequest request;
  request.set_name(name);
  auto context = connection_.NewContext(CallKind::kStream);
  auto reader = connection_.jobs().DownloadCheckpoint(context.get(), request);
  return internal::DrainStream(*context, *reader, on_chunk);
}

}  // namespace petabox::client
