// Tenants: who a job's use of the box is metered for. Tenants do not exist yet (the
// roadmap adds per-tenant tokens and roles): every job is the owner's, decided here and
// nowhere else, so that metering keeps working when jobs gain a tenant.
//
// Thread-safe (no state).
#pragma once

#include <string>

#include "petabox/v1/job.pb.h"

namespace petabox::daemon {

// The tenant label of the box owner's jobs.
inline constexpr char kOwnerTenant[] = "owner";

// The tenant a job's device time, FLOPs and energy are metered for: "owner" for now.
std::string TenantOfJob(const v1::Job& job);

}  // namespace petabox::daemon
