#include "client/lib/admin_client.h"

#include "client/lib/status_mapping.h"

namespace petabox::client {
namespace {

// One unary call of the admin stub.
template <typename Request, typename Response, typename Method>
StatusOr<Response> Call(const Connection& connection, Method method, const Request& request) {
  Response response;
  auto context = connection.NewContext(CallKind::kUnary);
  grpc::Status status = (connection.admin().*method)(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace

StatusOr<v1::CreateTenantResponse> AdminClient::CreateTenant(const std::string& name,
                                                             const v1::TenantQuota& quota) const {
  v1::CreateTenantRequest request;
  request.set_name(name);
  *request.mutable_quota() = quota;
  return Call<v1::CreateTenantRequest, v1::CreateTenantResponse>(connection_, &v1::AdminService::Stub::CreateTenant,
                                                                 request);
}

StatusOr<v1::ListTenantsResponse> AdminClient::ListTenants() const {
  return Call<v1::ListTenantsRequest, v1::ListTenantsResponse>(connection_, &v1::AdminService::Stub::ListTenants,
                                                               v1::ListTenantsRequest());
}

StatusOr<v1::Tenant> AdminClient::RevokeTenant(const std::string& name) const {
  v1::RevokeTenantRequest request;
  request.set_name(name);
  return Call<v1::RevokeTenantRequest, v1::Tenant>(connection_, &v1::AdminService::Stub::RevokeTenant, request);
}

StatusOr<v1::ListAuditRecordsResponse> AdminClient::ListAuditRecords(int limit) const {
  v1::ListAuditRecordsRequest request;
  request.set_limit(limit);
  return Call<v1::ListAuditRecordsRequest, v1::ListAuditRecordsResponse>(
      connection_, &v1::AdminService::Stub::ListAuditRecords, request);
}

}  // namespace petabox::client
