// Tenants' quotas (petabox.v1.TenantQuota; 0 means no limit): the checks JobManager and the
// dataset service make, and the refusals they give: ResourceExhausted naming the tenant,
// the quota and its value ("tenant 'alice': queued jobs quota 2 reached"). The owner has
// no quota.
//
// Thread-safe (no state; the store serializes its own access).
#pragma once

#include <cstdint>
#include <string>

#include "daemon/store/job_store.h"
#include "engine/util/status.h"
#include "petabox/v1/admin.pb.h"

namespace petabox::daemon {

// The quota of `tenant` ("owner" or a tenant's name): empty (no limits) for the owner.
// NotFound for an unknown tenant.
StatusOr<v1::TenantQuota> QuotaOf(const JobStore& store, const std::string& tenant);

// QuotaOf, or no limits when it cannot be read (for the scheduler, which has no caller to
// answer: a store error there is reported by the next call that has one).
v1::TenantQuota QuotaOrNone(const JobStore& store, const std::string& tenant);

// "tenant 'alice': queued jobs quota 2 reached" and `detail` after it, as ResourceExhausted.
Status QuotaReached(const std::string& tenant, const std::string& quota, int64_t value, const std::string& detail = "");

// Bytes the tenant keeps on the box: its datasets and its jobs' checkpoints (the files in
// data_dir/jobs/{id}/checkpoints).
StatusOr<int64_t> StorageBytes(const JobStore& store, const std::string& data_dir, const std::string& tenant);

// OK while the tenant's storage plus `adding` bytes stays within its quota.
Status CheckStorage(const JobStore& store, const std::string& data_dir, const std::string& tenant, int64_t adding);

// OK while the tenant has fewer QUEUED jobs than its quota.
Status CheckQueued(const JobStore& store, const std::string& tenant, const v1::TenantQuota& quota);

}  // namespace petabox::daemon
