// JobTables: the jobs of the store's database (as petabox.v1.Job messages) with CreateJob's
// idempotency keys, their events (petabox.v1.JobEvent, numbered 1, 2, 3, ... per job) and
// their log lines (numbered the same way). Every write is one transaction.
//
// Thread-compatible: JobStore serializes all calls (and all use of the connection).
// Errors: Internal with SQLite's message for I/O or corruption, NotFound for unknown jobs,
// AlreadyExists and InvalidArgument where noted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "engine/util/status.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

struct JobPage {
  std::vector<v1::Job> jobs;
  std::string next_page_token;  // "" on the last page
};

class JobTables {
 public:
  // Creates the jobs, events and logs tables when missing (schema version 0; later
  // columns come from daemon/store/schema.h's migrations).
  static Status CreateSchema(sqlite::Db& db);
  // Works on `db` (not owned; it outlives this object), whose schema exists.
  explicit JobTables(sqlite::Db* db) : db_(db) {}

  // Inserts `job` (job.name() "jobs/{id}" set by the caller, unique; AlreadyExists when
  // taken). With a non-empty request_id that an earlier CreateJob used, inserts nothing and
  // returns that earlier job with *created = false.
  StatusOr<v1::Job> CreateJob(const v1::Job& job, const std::string& request_id, bool* created);
  // Replaces the stored job with the same name. NotFound when there is none.
  Status UpdateJob(const v1::Job& job);
  // Replaces the job and appends `event` in one transaction; returns the event with its
  // sequence number set. Neither is written when either fails.
  StatusOr<v1::JobEvent> UpdateJobWithEvent(const v1::Job& job, v1::JobEvent event);
  StatusOr<v1::Job> GetJob(const std::string& name) const;
  // The job CreateJob made with `request_id`; NotFound when none.
  StatusOr<v1::Job> JobByRequestId(const std::string& request_id) const;
  // Newest first (reverse creation order); page_size in 1..1000; page_token "" or one that
  // this store returned (InvalidArgument otherwise). Empty `states` means all states;
  // `tenant` "" means every owner's jobs, else only jobs whose Job.tenant is `tenant`.
  StatusOr<JobPage> ListJobs(int page_size, const std::string& page_token,
                             const std::vector<v1::Job::State>& states, const std::string& tenant = "") const;
  // All jobs in any of `states`, oldest first.
  StatusOr<std::vector<v1::Job>> JobsInStates(const std::vector<v1::Job::State>& states) const;

  // Appends an event to a job; returns it with its sequence number set.
  StatusOr<v1::JobEvent> AppendEvent(const std::string& job_name, v1::JobEvent event);
  // Events with sequence > after_sequence, oldest first, at most `limit` (>= 1).
  StatusOr<std::vector<v1::JobEvent>> EventsAfter(const std::string& job_name, int64_t after_sequence,
                                                  int limit) const;
  // Highest sequence number of a job's events (0 when none).
  StatusOr<int64_t> LastSequence(const std::string& job_name) const;

  // Appends log lines (numbered 1, 2, 3, ... per job), all or none.
  Status AppendLogs(const std::string& job_name, const std::vector<std::string>& lines);
  // Lines numbered > after_line, at most max_lines (>= 1); *last_line is the number of the
  // last one returned (after_line when none).
  StatusOr<std::vector<std::string>> ReadLogs(const std::string& job_name, int64_t after_line, int max_lines,
                                              int64_t* last_line) const;

 private:
  sqlite::Db* const db_;
};

}  // namespace petabox::daemon
