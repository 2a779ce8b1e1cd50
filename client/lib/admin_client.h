// AdminClient: AdminService calls (tenants, the audit log; owner only) over a Connection
// (statuses as in client/lib/job_client.h).
//
// Thread-safe as the Connection is; the Connection must outlive it.
#pragma once

#include <string>

#include "client/lib/connection.h"
#include "engine/util/status.h"
#include "petabox/v1/admin.pb.h"

namespace petabox::client {

class AdminClient {
 public:
  explicit AdminClient(const Connection& connection) : connection_(connection) {}

  StatusOr<v1::CreateTenantResponse> CreateTenant(const std::string& name, const v1::TenantQuota& quota) const;
  StatusOr<v1::ListTenantsResponse> ListTenants() const;
  StatusOr<v1::Tenant> RevokeTenant(const std::string& name) const;
  StatusOr<v1::ListAuditRecordsResponse> ListAuditRecords(int limit) const;

 private:
  const Connection& connection_;
};

}  // namespace petabox::client
