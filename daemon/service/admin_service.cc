#include "daemon/service/admin_service.h"

#include <google/protobuf/util/time_util.h>

#include "daemon/auth/tenant_token.h"
#include "daemon/service/status_mapping.h"

namespace petabox::daemon {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kDefaultAuditLimit = 100;
constexpr int kMaxAuditLimit = 1000;

StatusOr<v1::CreateTenantResponse> Create(JobStore* store, const v1::CreateTenantRequest& request) {
  PB_RETURN_IF_ERROR(ValidateTenantName(request.name()));
  PB_RETURN_IF_ERROR(ValidateQuota(request.quota()));
  PB_ASSIGN_OR_RETURN(std::string token, NewTenantToken());
  v1::CreateTenantResponse response;
  v1::Tenant* tenant = response.mutable_tenant();
  tenant->set_name(request.name());
  *tenant->mutable_quota() = request.quota();
  *tenant->mutable_create_time() = TimeUtil::GetCurrentTime();
  PB_RETURN_IF_ERROR(store->AddTenant(*tenant, HashTenantToken(token)));
  response.set_token(std::move(token));
  return response;
}

StatusOr<v1::Tenant> Revoke(JobStore* store, const std::string& name) {
  PB_ASSIGN_OR_RETURN(v1::Tenant tenant, store->GetTenant(name));
  if (tenant.revoked()) return tenant;
  tenant.set_revoked(true);
  *tenant.mutable_revoke_time() = TimeUtil::GetCurrentTime();
  PB_RETURN_IF_ERROR(store->UpdateTenant(tenant));
  return tenant;
}

}  // namespace

Status ValidateQuota(const v1::TenantQuota& q) {
  const std::pair<const char*, int64_t> fields[] = {{"max_devices", q.max_devices()},
                                                    {"max_queued_jobs", q.max_queued_jobs()},
                                                    {"max_storage_bytes", q.max_storage_bytes()},
                                                    {"max_job_seconds", q.max_job_seconds()}};
  for (const auto& [name, value] : fields) {
    if (value < 0) return InvalidArgument(std::string("quota.") + name + " must be >= 0 (0: no limit)");
  }
  return Status::Ok();
}

StatusOr<Principal> AdminServiceImpl::Owner(const grpc::ServerContext& context, const char* what) const {
  return RequireOwner(auth_->Authenticate(context), what);
}

grpc::Status AdminServiceImpl::CreateTenant(grpc::ServerContext* context, const v1::CreateTenantRequest* request,
                                            v1::CreateTenantResponse* response) {
  const StatusOr<Principal> who = Owner(*context, "CreateTenant");
  grpc::Status result = ToGrpcStatus(who.status());
  if (who.ok()) {
    auto created = Create(store_, *request);
    result = ToGrpcStatus(created.status());
    if (created.ok()) *response = std::move(*created);
  }
  return audit_->Record(who, "CreateTenant", request->name(), result);
}

grpc::Status AdminServiceImpl::ListTenants(grpc::ServerContext* context, const v1::ListTenantsRequest*,
                                           v1::ListTenantsResponse* response) {
  if (auto who = Owner(*context, "ListTenants"); !who.ok()) return ToGrpcStatus(who.status());
  auto tenants = store_->ListTenants();
  if (!tenants.ok()) return ToGrpcStatus(tenants.status());
  for (v1::Tenant& t : *tenants) *response->add_tenants() = std::move(t);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::RevokeTenant(grpc::ServerContext* context, const v1::RevokeTenantRequest* request,
                                            v1::Tenant* response) {
  const StatusOr<Principal> who = Owner(*context, "RevokeTenant");
  grpc::Status result = ToGrpcStatus(who.status());
  if (who.ok()) {
    auto revoked = Revoke(store_, request->name());
    result = ToGrpcStatus(revoked.status());
    if (revoked.ok()) *response = std::move(*revoked);
  }
  return audit_->Record(who, "RevokeTenant", request->name(), result);
}

grpc::Status AdminServiceImpl::ListAuditRecords(grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
                                                v1::ListAuditRecordsResponse* response) {
  if (auto who = Owner(*context, "ListAuditRecords"); !who.ok()) return ToGrpcStatus(who.status());
  if (request->limit() < 0 || request->limit() > kMaxAuditLimit || request->before_sequence() < 0) {
    return ToGrpcStatus(InvalidArgument("limit must be in 0..1000 (0 means 100) and before_sequence >= 0"));
  }
  auto records = store_->ListAudit(request->limit() ? request->limit() : kDefaultAuditLimit, request->before_sequence());
  if (!records.ok()) return ToGrpcStatus(records.status());
  for (v1::AuditRecord& r : *records) *response->add_records() = std::move(r);
  return grpc::Status::OK;
}

}  // namespace petabox::daemon
