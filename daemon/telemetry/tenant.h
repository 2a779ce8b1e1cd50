// Tenants: who a job's use of the box is metered for: its Job.tenant ("owner" or a
// tenant's name; jobs stored before tenants existed are the owner's), decided here and
// nowhere else.
//
// Thread-safe (no state).
#pragma once

#include <string>

#include "daemon/auth/principal.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

// The tenant a job's device time, FLOPs and energy are metered for.
std::string TenantOfJob(const v1::Job& job);

// True for jobs of a tenant (not the owner's): what the unauthenticated HTTP endpoints
// must not name.
bool IsTenantJob(const v1::Job& job);

}  // namespace petabox::daemon
