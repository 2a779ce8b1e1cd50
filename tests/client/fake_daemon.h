// FakeDaemon: an in-process gRPC server with scripted JobService, DatasetService and
// BoxService behaviour, for testing the client library and the CLI without petaboxd.
// Listens on 127.0.0.1 on a free port. Header-only (the test glob compiles *_test.cc only).
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "engine/util/thread_annotations.h"
#include "petabox/v1/box.grpc.pb.h"
#include "petabox/v1/dataset.grpc.pb.h"
#include "petabox/v1/job.grpc.pb.h"

namespace petabox::testing {

// What the fake answers; tests set it before the calls and read the record after them.
struct FakeScript {
  std::string token;                    // expected bearer token; "" accepts anything
  int create_unavailable = 0;           // CreateJob calls to fail with UNAVAILABLE first
  std::map<std::string, v1::Job> jobs;  // by name, for GetJob, CancelJob and ListJobs
  std::vector<v1::JobEvent> events;     // WatchJob's events (sequence numbers set)
  int watch_break_after = -1;           // the first WatchJob stream breaks (UNAVAILABLE) after this many events
  std::vector<std::string> logs;        // GetJobLogs's lines
  int logs_page = 2;                    // lines per GetJobLogs page
  std::string checkpoint;               // DownloadCheckpoint's bytes
  std::string checkpoint_sha256;        // announced on the last chunk
  v1::Box box;
};

// What the fake saw.
struct FakeRecord {
  std::vector<std::string> authorization;  // metadata value of each call
  std::vector<std::string> request_ids;    // of each CreateJob
  std::vector<int64_t> watch_after;        // after_sequence of each WatchJob
  std::vector<std::string> page_tokens;    // of each ListJobs
  v1::UploadDatasetRequest upload_header;
  std::string upload_data;
  int upload_messages = 0;
};

class FakeDaemon final : public v1::JobService::Service,
                         public v1::DatasetService::Service,
                         public v1::BoxService::Service {
 public:
  FakeDaemon() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<v1::JobService::Service*>(this));
    builder.RegisterService(static_cast<v1::DatasetService::Service*>(this));
    builder.RegisterService(static_cast<v1::BoxService::Service*>(this));
    server_ = builder.BuildAndStart();
  }
  ~FakeDaemon() override { server_->Shutdown(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  FakeScript& script() { return script_; }
  FakeRecord record() {
    MutexLock lock(mu_);
    return record_;
  }

  grpc::Status CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request, v1::Job* job) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    record_.request_ids.push_back(request->request_id());
    if (created_attempts_++ < script_.create_unavailable) return {grpc::StatusCode::UNAVAILABLE, "draining"};
    *job = request->job();
    job->set_name("jobs/j-000000000001");
    job->set_state(v1::Job::QUEUED);
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request, v1::Job* job) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    auto it = script_.jobs.find(request->name());
    if (it == script_.jobs.end()) return {grpc::StatusCode::NOT_FOUND, "no job " + request->name()};
    *job = it->second;
    return grpc::Status::OK;
  }

  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request, v1::Job* job) override {
    v1::GetJobRequest get;
    get.set_name(request->name());
    grpc::Status status = GetJob(context, &get, job);
    if (status.ok()) job->set_state(v1::Job::CANCELLING);
    return status;
  }

  // One job per page, to exercise paging.
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    record_.page_tokens.push_back(request->page_token());
    size_t index = request->page_token().empty() ? 0 : std::stoul(request->page_token());
    auto it = script_.jobs.begin();
    std::advance(it, std::min(index, script_.jobs.size()));
    if (it != script_.jobs.end()) *response->add_jobs() = it->second;
    if (index + 1 < script_.jobs.size()) response->set_next_page_token(std::to_string(index + 1));
    return grpc::Status::OK;
  }

  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override {
    std::vector<v1::JobEvent> events;
    int break_after;
    {
      MutexLock lock(mu_);
      if (auto denied = Check(context)) return *denied;
      record_.watch_after.push_back(request->after_sequence());
      events = script_.events;
      break_after = script_.watch_break_after;
      script_.watch_break_after = -1;
    }
    int sent = 0;
    for (const v1::JobEvent& event : events) {
      if (event.sequence() <= request->after_sequence()) continue;
      if (sent == break_after) return {grpc::StatusCode::UNAVAILABLE, "daemon restarting"};
      writer->Write(event);
      ++sent;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJobLogs(grpc::ServerContext* context, const v1::GetJobLogsRequest* request,
                          v1::GetJobLogsResponse* response) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    int64_t line = request->after_line();
    while (line < static_cast<int64_t>(script_.logs.size()) && response->lines_size() < script_.logs_page) {
      response->add_lines(script_.logs[line++]);
    }
    response->set_last_line(line);
    return grpc::Status::OK;
  }

  // Chunks of 3 bytes; the last message carries the announced sha256 and size.
  grpc::Status DownloadCheckpoint(grpc::ServerContext* context, const v1::DownloadCheckpointRequest* request,
                                  grpc::ServerWriter<v1::CheckpointChunk>* writer) override {
    std::string bytes, sha;
    {
      MutexLock lock(mu_);
      if (auto denied = Check(context)) return *denied;
      bytes = script_.checkpoint;
      sha = script_.checkpoint_sha256;
    }
    for (size_t at = 0; at < bytes.size() || at == 0; at += 3) {
      v1::CheckpointChunk chunk;
      chunk.set_data(bytes.substr(std::min(at, bytes.size()), 3));
      chunk.set_step(42);
      if (at + 3 >= bytes.size()) {
        chunk.set_sha256(sha);
        chunk.set_total_bytes(static_cast<int64_t>(bytes.size()));
      }
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  grpc::Status UploadDataset(grpc::ServerContext* context, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::Dataset* dataset) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    v1::UploadDatasetRequest message;
    while (reader->Read(&message)) {
      if (record_.upload_messages++ == 0) record_.upload_header = message;
      record_.upload_data += message.data();
    }
    dataset->set_name(record_.upload_header.name());
    *dataset->mutable_files() = record_.upload_header.files();
    dataset->set_total_bytes(static_cast<int64_t>(record_.upload_data.size()));
    return grpc::Status::OK;
  }

  grpc::Status GetBox(grpc::ServerContext* context, const v1::GetBoxRequest*, v1::Box* box) override {
    MutexLock lock(mu_);
    if (auto denied = Check(context)) return *denied;
    *box = script_.box;
    return grpc::Status::OK;
  }

 private:
  // Records the call's authorization metadata; UNAUTHENTICATED when it is not the script's.
  std::optional<grpc::Status> Check(grpc::ServerContext* context) REQUIRES(mu_) {
    std::string value;
    auto it = context->client_metadata().find("authorization");
    if (it != context->client_metadata().end()) value.assign(it->second.data(), it->second.size());
    record_.authorization.push_back(value);
    if (!script_.token.empty() && value != "Bearer " + script_.token) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong token");
    }
    return std::nullopt;
  }

  Mutex mu_;
  FakeScript script_;  // set by the test before calls start
  FakeRecord record_ GUARDED_BY(mu_);
  int created_attempts_ GUARDED_BY(mu_) = 0;

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// A job event with its sequence number.
inline v1::JobEvent Event(int64_t sequence) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  return event;
}

}  // namespace petabox::testing
