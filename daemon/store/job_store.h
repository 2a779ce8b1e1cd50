// JobStore: the daemon's durable state in one SQLite database (WAL mode) in the data
// directory: jobs (as petabox.v1.Job messages), their events (petabox.v1.JobEvent, numbered
// 1, 2, 3, ... per job), their log lines, the idempotency keys of CreateJob, and uploaded
// datasets (petabox.v1.Dataset; their files live beside the database, daemon/store/
// dataset_files.h). Every write is one transaction that is durable when the call returns
// (synchronous=FULL), so an acknowledged job survives kill -9 of the daemon.
//
// The store opens the connection (daemon/store/sqlite_db.h) and serializes access to it;
// the tables' SQL lives in daemon/store/job_tables.h (jobs, events, logs, idempotency keys)
// daemon/store/dataset_table.h (datasets), daemon/store/tenant_table.h (tenants and their
// token hashes) and daemon/store/audit_table.h (the audit log); daemon/store/schema.h
// migrates a store written by an older daemon when it opens.
//
// Thread-safe: one mutex serializes all calls. Errors: Internal with SQLite's message for
// I/O or corruption, NotFound for unknown names, AlreadyExists where noted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/store/audit_table.h"
#include "daemon/store/dataset_table.h"
#include "daemon/store/job_tables.h"
#include "daemon/store/sqlite_db.h"
#include "daemon/store/tenant_table.h"
#include "engine/util/status.h"
#include "engine/util/thread_annotations.h"
#include "petabox/v1/admin.pb.h"
#include "petabox/v1/dataset.pb.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

class JobStore {
 public:
  // Opens (creating when missing) the database at `path` and its tables.
  static StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Inserts `job` (job.name() "jobs/{id}" set by the caller, unique). With a non-empty
  // request_id that an earlier CreateJob used, inserts nothing and returns that earlier
  // job with *created = false.
  StatusOr<v1::Job> CreateJob(const v1::Job& job, const std::string& request_id, bool* created);
  // Replaces the stored job with the same name. NotFound when there is none.
  Status UpdateJob(const v1::Job& job);
  // Replaces the job and appends `event` in one transaction; returns the event with its
  // sequence number set.
  StatusOr<v1::JobEvent> UpdateJobWithEvent(const v1::Job& job, v1::JobEvent event);
  StatusOr<v1::Job> GetJob(const std::string& name) const;
  // The job CreateJob made with `request_id`; NotFound when none.
  StatusOr<v1::Job> JobByRequestId(const std::string& request_id) const;
  // Newest first (reverse creation order); page_size in 1..1000; page_token "" or one that
  // this store returned (InvalidArgument otherwise). Empty `states` means all states;
  // a non-empty `tenant` lists only that tenant's jobs (Job.tenant).
  StatusOr<JobPage> ListJobs(int page_size, const std::string& page_token,
                             const std::vector<v1::Job::State>& states, const std::string& tenant = "") const;
  // All jobs in any of `states`, oldest first (for recovery at start and for scheduling).
  StatusOr<std::vector<v1::Job>> JobsInStates(const std::vector<v1::Job::State>& states) const;

  // Appends an event to a job; returns it with its sequence number set.
  StatusOr<v1::JobEvent> AppendEvent(const std::string& job_name, v1::JobEvent event);
  // Events with sequence > after_sequence, oldest first, at most `limit`.
  StatusOr<std::vector<v1::JobEvent>> EventsAfter(const std::string& job_name, int64_t after_sequence,
                                                  int limit) const;
  // Highest sequence number of a job's events (0 when none).
  StatusOr<int64_t> LastSequence(const std::string& job_name) const;

  // Appends log lines (numbered 1, 2, 3, ... per job).
  Status AppendLogs(const std::string& job_name, const std::vector<std::string>& lines);
  // Lines numbered > after_line, at most max_lines; *last_line is the number of the last
  // one returned (after_line when none).
  StatusOr<std::vector<std::string>> ReadLogs(const std::string& job_name, int64_t after_line, int max_lines,
                                              int64_t* last_line) const;

  // Datasets by name ("datasets/{id}"). AddDataset: AlreadyExists when the name is taken.
  Status AddDataset(const v1::Dataset& dataset);
  StatusOr<v1::Dataset> GetDataset(const std::string& name) const;
  // All datasets, or (non-empty `tenant`) that tenant's.
  StatusOr<std::vector<v1::Dataset>> ListDatasets(const std::string& tenant = "") const;
  Status DeleteDataset(const std::string& name);

  // Tenants (daemon/store/tenant_table.h): AlreadyExists for a taken name, NotFound for an
  // unknown name or token hash.
  Status AddTenant(const v1::Tenant& tenant, const std::string& token_sha256);
  StatusOr<v1::Tenant> GetTenant(const std::string& name) const;
  StatusOr<v1::Tenant> TenantByTokenHash(const std::string& token_sha256) const;
  StatusOr<std::vector<v1::Tenant>> ListTenants() const;
  Status UpdateTenant(const v1::Tenant& tenant);

  // The audit log (daemon/store/audit_table.h).
  StatusOr<v1::AuditRecord> AppendAudit(v1::AuditRecord record);
  StatusOr<std::vector<v1::AuditRecord>> ListAudit(int limit, int64_t before) const;

 private:
  explicit JobStore(sqlite::Db db);
  mutable Mutex mu_;
  sqlite::Db db_ GUARDED_BY(mu_);
  JobTables jobs_ GUARDED_BY(mu_);          // over db_
  DatasetTable datasets_ GUARDED_BY(mu_);   // over db_
  TenantTable tenants_ GUARDED_BY(mu_);     // over db_
  AuditTable audit_ GUARDED_BY(mu_);        // over db_
};

}  // namespace petabox::daemon
