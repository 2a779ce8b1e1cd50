#include "daemon/auth/authenticator.h"

#include "daemon/auth/tenant_token.h"
#include "daemon/auth/token.h"

namespace petabox::daemon {
namespace {

Status Revoked(const std::string& tenant) {
  return Unauthenticated("the token of tenant '" + tenant + "' was revoked by the box owner");
}

}  // namespace

StatusOr<Principal> Authenticator::Authenticate(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return Unauthenticated("no token: send 'authorization: Bearer TOKEN' (petabox --token, or PETABOX_TOKEN)");
  }
  const std::string token = BearerToken(std::string(it->second.data(), it->second.size()));
  if (token.empty()) return Unauthenticated("malformed authorization metadata: expected 'Bearer TOKEN'");
  if (TokensEqual(token, owner_token_)) return Principal::Owner();
  if (store_ != nullptr && token.rfind(kTenantTokenPrefix, 0) == 0) return TenantByToken(token);
  return Unauthenticated("wrong token (the owner token is in the daemon's DATA_DIR/owner.token)");
}

// Looked up by the token's hash: comparing hashes leaks nothing useful about the token.
StatusOr<Principal> Authenticator::TenantByToken(const std::string& token) const {
  auto tenant = store_->TenantByTokenHash(HashTenantToken(token));
  if (!tenant.ok() && tenant.status().code() == StatusCode::kNotFound) {
    return Unauthenticated("wrong token: no tenant has it");
  }
  if (!tenant.ok()) return tenant.status();
  if (tenant->revoked()) return Revoked(tenant->name());
  return Principal::Tenant(tenant->name());
}

Status Authenticator::StillValid(const Principal& principal) const {
  if (principal.is_owner() || store_ == nullptr) return Status::Ok();
  auto tenant = store_->GetTenant(principal.tenant);
  if (!tenant.ok() && tenant.status().code() == StatusCode::kNotFound) return Revoked(principal.tenant);
  if (!tenant.ok()) return tenant.status();
  return tenant->revoked() ? Revoked(principal.tenant) : Status::Ok();
}

}  // namespace petabox::daemon
