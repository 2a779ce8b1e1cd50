#include "daemon/store/job_store.h"

#include <utility>

#include "daemon/store/schema.h"

namespace petabox::daemon {

StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  PB_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path));
  PB_RETURN_IF_ERROR(CreateOrMigrateSchema(db));
  return std::unique_ptr<JobStore>(new JobStore(std::move(db)));
}

JobStore::JobStore(sqlite::Db db)
    : db_(std::move(db)), jobs_(&db_), datasets_(&db_), tenants_(&db_), audit_(&db_) {}

JobStore::~JobStore() = default;

StatusOr<v1::Job> JobStore::CreateJob(const v1::Job& job, const std::string& request_id, bool* created) {
  MutexLock lock(mu_);
  return jobs_.CreateJob(job, request_id, created);
}

Status JobStore::UpdateJob(const v1::Job& job) {
  MutexLock lock(mu_);
  return jobs_.UpdateJob(job);
}

StatusOr<v1::JobEvent> JobStore::UpdateJobWithEvent(const v1::Job& job, v1::JobEvent event) {
  MutexLock lock(mu_);
  return jobs_.UpdateJobWithEvent(job, std::move(event));
}

StatusOr<v1::Job> JobStore::GetJob(const std::string& name) const {
  MutexLock lock(mu_);
  return jobs_.GetJob(name);
}

StatusOr<v1::Job> JobStore::JobByRequestId(const std::string& request_id) const {
  MutexLock lock(mu_);
  return jobs_.JobByRequestId(request_id);
}

StatusOr<JobPage> JobStore::ListJobs(int page_size, const std::string& page_token,
                                     const std::vector<v1::Job::State>& states, const std::string& tenant) const {
  MutexLock lock(mu_);
  return jobs_.ListJobs(page_size, page_token, states, tenant);
}

StatusOr<std::vector<v1::Job>> JobStore::JobsInStates(const std::vector<v1::Job::State>& states) const {
  MutexLock lock(mu_);
  return jobs_.JobsInStates(states);
}

StatusOr<v1::JobEvent> JobStore::AppendEvent(const std::string& job_name, v1::JobEvent event) {
  MutexLock lock(mu_);
  return jobs_.AppendEvent(job_name, std::move(event));
}

StatusOr<std::vector<v1::JobEvent>> JobStore::EventsAfter(const std::string& job_name, int64_t after_sequence,
                                                          int limit) const {
  MutexLock lock(mu_);
  return jobs_.EventsAfter(job_name, after_sequence, limit);
}

StatusOr<int64_t> JobStore::LastSequence(const std::string& job_name) const {
  MutexLock lock(mu_);
  return jobs_.LastSequence(job_name);
}

Status JobStore::AppendLogs(const std::string& job_name, const std::vector<std::string>& lines) {
  MutexLock lock(mu_);
  return jobs_.AppendLogs(job_name, lines);
}

StatusOr<std::vector<std::string>> JobStore::ReadLogs(const std::string& job_name, int64_t after_line, int max_lines,
                                                      int64_t* last_line) const {
  MutexLock lock(mu_);
  return jobs_.ReadLogs(job_name, after_line, max_lines, last_line);
}

Status JobStore::AddDataset(const v1::Dataset& dataset) {
  MutexLock lock(mu_);
  return datasets_.AddDataset(dataset);
}

StatusOr<v1::Dataset> JobStore::GetDataset(const std::string& name) const {
  MutexLock lock(mu_);
  return datasets_.GetDataset(name);
}

StatusOr<std::vector<v1::Dataset>> JobStore::ListDatasets(const std::string& tenant) const {
  MutexLock lock(mu_);
  return datasets_.ListDatasets(tenant);
}

Status JobStore::DeleteDataset(const std::string& name) {
  MutexLock lock(mu_);
  return datasets_.DeleteDataset(name);
}

Status JobStore::AddTenant(const v1::Tenant& tenant, const std::string& token_sha256) {
  MutexLock lock(mu_);
  return tenants_.AddTenant(tenant, token_sha256);
}

StatusOr<v1::Tenant> JobStore::GetTenant(const std::string& name) const {
  MutexLock lock(mu_);
  return tenants_.GetTenant(name);
}

StatusOr<v1::Tenant> JobStore::TenantByTokenHash(const std::string& token_sha256) const {
  MutexLock lock(mu_);
  return tenants_.TenantByTokenHash(token_sha256);
}

StatusOr<std::vector<v1::Tenant>> JobStore::ListTenants() const {
  MutexLock lock(mu_);
  return tenants_.ListTenants();
}

Status JobStore::UpdateTenant(const v1::Tenant& tenant) {
  MutexLock lock(mu_);
  return tenants_.UpdateTenant(tenant);
}

StatusOr<v1::AuditRecord> JobStore::AppendAudit(v1::AuditRecord record) {
  MutexLock lock(mu_);
  return audit_.Append(std::move(record));
}

StatusOr<std::vector<v1::AuditRecord>> JobStore::ListAudit(int limit, int64_t before) const {
  MutexLock lock(mu_);
  return audit_.List(limit, before);
}

}  // namespace petabox::daemon
