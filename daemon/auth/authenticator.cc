#include "daemon/auth/authenticator.h"

#include "daemon/auth/token.h"

namespace petabox::daemon {

grpc::Status Authenticator::Check(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no token: send 'authorization: Bearer TOKEN' (petabox --token, or PETABOX_TOKEN)");
  }
  const std::string token = BearerToken(std::string(it->second.data(), it->second.size()));
  if (token.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "malformed authorization metadata: expected 'Bearer TOKEN'");
  }
  if (!TokensEqual(token, owner_token_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "wrong token (the owner token is in the daemon's DATA_DIR/owner.token)");
  }
  return grpc::Status::OK;
}

}  // namespace petabox::daemon
