// petabox.v1.AdminService: tenants and their tokens, the audit log. Owner only. A thin
// adapter over the JobStore.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include "daemon/auth/authenticator.h"
#include "daemon/service/audit_log.h"
#include "daemon/store/job_store.h"
#include "petabox/v1/admin.grpc.pb.h"

namespace petabox::daemon {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  AdminServiceImpl(JobStore* store, const Authenticator* auth, const AuditLog* audit)
      : store_(store), auth_(auth), audit_(audit) {}

  grpc::Status CreateTenant(grpc::ServerContext* context, const v1::CreateTenantRequest* request,
                            v1::CreateTenantResponse* response) override;
  grpc::Status ListTenants(grpc::ServerContext* context, const v1::ListTenantsRequest* request,
                           v1::ListTenantsResponse* response) override;
  grpc::Status RevokeTenant(grpc::ServerContext* context, const v1::RevokeTenantRequest* request,
                            v1::Tenant* response) override;
  grpc::Status ListAuditRecords(grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
                                v1::ListAuditRecordsResponse* response) override;

 private:
  StatusOr<Principal> Owner(const grpc::ServerContext& context, const char* what) const;
  JobStore* const store_;
  const Authenticator* const auth_;
  const AuditLog* const audit_;
};

// Checks a quota (no negative values). InvalidArgument naming the field.
Status ValidateQuota(const v1::TenantQuota& quota);

}  // namespace petabox::daemon
