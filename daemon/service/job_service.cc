#include "daemon/service/job_service.h"

#include <cstdlib>
#include <fstream>
#include <string_view>

#include "daemon/service/status_mapping.h"
#include "daemon/worker/checkpoint.h"
#include "engine/util/sha256.h"

namespace petabox::daemon {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr size_t kChunkBytes = 1 << 20;

// The job, after checking its name; NotFound when it does not exist, and the same answer
// when `who` may not see it (another tenant's job must not show that it exists).
StatusOr<v1::Job> FindJob(JobStore* store, const std::string& name, const Principal& who) {
  PB_RETURN_IF_ERROR(CheckJobName(name));
  auto job = store->GetJob(name);
  if ((!job.ok() && job.status().code() == StatusCode::kNotFound) || (job.ok() && !who.Sees(job->tenant()))) {
    return NotFound(name + " does not exist");
  }
  return job;
}

// 42 for ".../step-00000042.safetensors" (checkpoint.h's names); 0 otherwise.
int64_t ParseCheckpointStep(const std::string& path) {
  const size_t at = path.rfind("step-");
  return at == std::string::npos ? 0 : std::atoll(path.c_str() + at + 5);
}

bool EndsJob(const v1::JobEvent& event) {
  return event.has_state_change() && IsTerminal(event.state_change().state());
}

}  // namespace

Status CheckJobName(const std::string& name) {
  if (name.rfind("jobs/", 0) != 0 || name.size() <= 5 || name.find('/', 5) != std::string::npos) {
    return InvalidArgument("name must be 'jobs/{job}', got '" + name + "'");
  }
  return Status::Ok();
}

grpc::Status JobServiceImpl::CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request,
                                       v1::Job* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  grpc::Status result = ToGrpcStatus(who.status());
  if (who.ok()) {
    v1::Job job = request->job();
    job.set_tenant(who->label());  // output only: whatever the client sent is replaced
    auto created = manager_->CreateJob(std::move(job), request->request_id());
    result = ToGrpcStatus(created.status());
    if (created.ok()) *response = std::move(*created);
  }
  return audit_->Record(who, "CreateJob", response->name(), result);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto job = FindJob(store_, request->name(), *who);
  if (!job.ok()) return ToGrpcStatus(job.status());
  *response = std::move(*job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
    return ToGrpcStatus(InvalidArgument("page_size must be in 0..1000 (0 means 50)"));
  }
  std::vector<v1::Job::State> states;
  for (int s : request->states()) states.push_back(static_cast<v1::Job::State>(s));
  auto page = store_->ListJobs(request->page_size() ? request->page_size() : kDefaultPageSize,
                               request->page_token(), states, who->is_owner() ? "" : who->tenant);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (v1::Job& job : page->jobs) *response->add_jobs() = std::move(job);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                                       v1::Job* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  grpc::Status result = ToGrpcStatus(who.status());
  if (who.ok()) {
    auto job = FindJob(store_, request->name(), *who);
    if (job.ok()) job = manager_->CancelJob(request->name());
    result = ToGrpcStatus(job.status());
    if (job.ok()) *response = std::move(*job);
  }
  return audit_->Record(who, "CancelJob", request->name(), result);
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::JobEvent>* writer) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto job = FindJob(store_, request->name(), *who);
  if (!job.ok()) return ToGrpcStatus(job.status());
  auto last = store_->LastSequence(request->name());
  if (!last.ok()) return ToGrpcStatus(last.status());
  if (request->after_sequence() < 0 || request->after_sequence() > *last) {
    return ToGrpcStatus(OutOfRange("after_sequence " + std::to_string(request->after_sequence()) +
                                   " is beyond the job's last event (" + std::to_string(*last) + ")"));
  }
  int64_t sent = request->after_sequence();
  while (true) {
    // A revoked tenant's open watch ends at once (within one wait below).
    if (Status valid = auth_->StillValid(*who); !valid.ok()) return ToGrpcStatus(valid);
    const uint64_t version = manager_->EventVersion();
    auto events = store_->EventsAfter(request->name(), sent, 500);
    if (!events.ok()) return ToGrpcStatus(events.status());
    for (const v1::JobEvent& event : *events) {
      if (!writer->Write(event)) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      sent = event.sequence();
      if (EndsJob(event)) return grpc::Status::OK;
    }
    if (!events->empty()) continue;
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled");
    if (manager_->shut_down()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "petaboxd is shutting down; watch again from sequence " +
                                                             std::to_string(sent) + " when it is back");
    }
    manager_->WaitForEvents(version, std::chrono::milliseconds(500));
  }
}

grpc::Status JobServiceImpl::GetJobLogs(grpc::ServerContext* context, const v1::GetJobLogsRequest* request,
                                        v1::GetJobLogsResponse* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (auto job = FindJob(store_, request->name(), *who); !job.ok()) return ToGrpcStatus(job.status());
  if (request->after_line() < 0 || request->max_lines() < 0) {
    return ToGrpcStatus(InvalidArgument("after_line and max_lines must be >= 0"));
  }
  int64_t last_line = 0;
  auto lines = store_->ReadLogs(request->name(), request->after_line(),
                                request->max_lines() ? std::min(request->max_lines(), 10000) : 1000, &last_line);
  if (!lines.ok()) return ToGrpcStatus(lines.status());
  for (std::string& line : *lines) response->add_lines(std::move(line));
  response->set_last_line(last_line);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::DownloadCheckpoint(grpc::ServerContext* context,
                                                const v1::DownloadCheckpointRequest* request,
                                                grpc::ServerWriter<v1::CheckpointChunk>* writer) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto job = FindJob(store_, request->name(), *who);
  if (!job.ok()) return ToGrpcStatus(job.status());
  const std::string dir = manager_->CheckpointDir(request->name());
  auto good = worker::LatestGoodCheckpoint(dir);  // skips damaged ones, as resuming does
  if (!good.ok() && good.status().code() == StatusCode::kNotFound)
    return ToGrpcStatus(FailedPrecondition(request->name() + " has no checkpoint yet"));
  if (!good.ok()) return ToGrpcStatus(good.status());
  const std::string* path = &good->path;
  // Checkpoints are written to a temporary file and renamed, so an open file stays whole.
  std::ifstream in(*path, std::ios::binary);
  if (!in) return ToGrpcStatus(Unavailable("cannot read the checkpoint"));
  const int64_t step = ParseCheckpointStep(*path);
  Sha256 hash;
  int64_t total = 0;
  std::string buffer(kChunkBytes, '\0');
  while (in) {
    in.read(buffer.data(), buffer.size());
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    v1::CheckpointChunk chunk;
    chunk.set_data(buffer.data(), n);
    chunk.set_step(step);
    hash.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    total += n;
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    if (Status valid = auth_->StillValid(*who); !valid.ok()) return ToGrpcStatus(valid);  // revoked meanwhile
  }
  v1::CheckpointChunk last;
  last.set_sha256(hash.HexDigest());
  last.set_total_bytes(total);
  last.set_step(step);
  writer->Write(last);
  return grpc::Status::OK;
}

}  // namespace petabox::daemon
