// Caller authentication for every petabox.v1 call: "authorization: Bearer TOKEN" metadata
// must carry the owner token. (Tenants with their own tokens and roles come with renting.)
//
// Thread-safe: immutable after construction.
#pragma once

#include <string>

#include <grpcpp/server_context.h>

namespace petabox::daemon {

class Authenticator {
 public:
  explicit Authenticator(std::string owner_token) : owner_token_(std::move(owner_token)) {}
  // OK, or UNAUTHENTICATED saying what is missing or wrong.
  grpc::Status Check(const grpc::ServerContext& context) const;

 private:
  const std::string owner_token_;
};

}  // namespace petabox::daemon
