// Caller authentication for every petabox.v1 call: "authorization: Bearer TOKEN" metadata
// must carry the owner token (DATA_DIR/owner.token) or a tenant's token that has not been
// revoked (looked up by its SHA-256 in the job store at every call, so a revocation holds
// from the next call on).
//
// Thread-safe: immutable after construction; the store serializes its own access.
#pragma once

#include <string>

#include <grpcpp/server_context.h>

#include "daemon/auth/principal.h"
#include "daemon/store/job_store.h"
#include "engine/util/status.h"

namespace petabox::daemon {

class Authenticator {
 public:
  // `store` (not owned, may be null: owner token only) holds the tenants.
  Authenticator(std::string owner_token, const JobStore* store)
      : owner_token_(std::move(owner_token)), store_(store) {}

  // The caller, or Unauthenticated saying what is missing or wrong (a revoked tenant's
  // token says so); Internal when the store cannot be read.
  StatusOr<Principal> Authenticate(const grpc::ServerContext& context) const;
  // For long streams: OK while `principal` may still call; Unauthenticated once its
  // tenant was revoked.
  Status StillValid(const Principal& principal) const;

 private:
  StatusOr<Principal> TenantByToken(const std::string& token) const;
  const std::string owner_token_;
  const JobStore* const store_;
};

}  // namespace petabox::daemon
