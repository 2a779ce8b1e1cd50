#include "daemon/jobs/tenant_quota.h"

#include <algorithm>
#include <filesystem>

#include "daemon/auth/principal.h"

namespace petabox::daemon {
namespace {

namespace fs = std::filesystem;

int64_t DirectoryBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

std::string JobId(const std::string& name) { return name.substr(name.find('/') + 1); }

}  // namespace

StatusOr<v1::TenantQuota> QuotaOf(const JobStore& store, const std::string& tenant) {
  if (tenant.empty() || tenant == kOwnerTenant) return v1::TenantQuota();
  PB_ASSIGN_OR_RETURN(v1::Tenant t, store.GetTenant(tenant));
  return t.quota();
}

v1::TenantQuota QuotaOrNone(const JobStore& store, const std::string& tenant) {
  auto quota = QuotaOf(store, tenant);
  return quota.ok() ? *quota : v1::TenantQuota();
}

Status QuotaReached(const std::string& tenant, const std::string& quota, int64_t value, const std::string& detail) {
  return ResourceExhausted("tenant '" + tenant + "': " + quota + " quota " + std::to_string(value) + " reached" +
                           (detail.empty() ? "" : " (" + detail + ")"));
}

StatusOr<int64_t> StorageBytes(const JobStore& store, const std::string& data_dir, const std::string& tenant) {
  int64_t total = 0;
  PB_ASSIGN_OR_RETURN(std::vector<v1::Dataset> datasets, store.ListDatasets(tenant));
  for (const v1::Dataset& d : datasets) total += d.total_bytes();
  std::string token;
  do {
    PB_ASSIGN_OR_RETURN(JobPage page, store.ListJobs(1000, token, {}, tenant));
    for (const v1::Job& job : page.jobs) total += DirectoryBytes(data_dir + "/jobs/" + JobId(job.name()) + "/checkpoints");
    token = page.next_page_token;
  } while (!token.empty());
  return total;
}

Status CheckStorage(const JobStore& store, const std::string& data_dir, const std::string& tenant, int64_t adding) {
  PB_ASSIGN_OR_RETURN(v1::TenantQuota quota, QuotaOf(store, tenant));
  if (quota.max_storage_bytes() == 0) return Status::Ok();
  PB_ASSIGN_OR_RETURN(int64_t used, StorageBytes(store, data_dir, tenant));
  if (used + adding > quota.max_storage_bytes() || (adding == 0 && used >= quota.max_storage_bytes())) {
    return QuotaReached(tenant, "storage bytes", quota.max_storage_bytes(),
                        std::to_string(used) + " bytes used" +
                            (adding > 0 ? ", " + std::to_string(adding) + " more asked for" : ""));
  }
  return Status::Ok();
}

Status CheckQueued(const JobStore& store, const std::string& tenant, const v1::TenantQuota& quota) {
  if (quota.max_queued_jobs() == 0) return Status::Ok();
  PB_ASSIGN_OR_RETURN(JobPage page, store.ListJobs(std::min(quota.max_queued_jobs(), 1000), "", {v1::Job::QUEUED}, tenant));
  if (static_cast<int64_t>(page.jobs.size()) >= quota.max_queued_jobs()) {
    return QuotaReached(tenant, "queued jobs", quota.max_queued_jobs());
  }
  return Status::Ok();
}

}  // namespace petabox::daemon
