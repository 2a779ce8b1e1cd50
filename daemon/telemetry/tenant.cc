#include "daemon/telemetry/tenant.h"

namespace petabox::daemon {

std::string TenantOfJob(const v1::Job&) { return kOwnerTenant; }

}  // namespace petabox::daemon
