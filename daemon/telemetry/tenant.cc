#include "daemon/telemetry/tenant.h"

namespace petabox::daemon {

std::string TenantOfJob(const v1::Job& job) { return job.tenant().empty() ? kOwnerTenant : job.tenant(); }

bool IsTenantJob(const v1::Job& job) { return TenantOfJob(job) != kOwnerTenant; }

}  // namespace petabox::daemon
