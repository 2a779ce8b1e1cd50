// AuditLog: records every mutating call (who, what, when, result) in the job store's audit
// table, refused ones included, for `petabox audit`. Used by the service adapters at the
// end of each mutating call.
//
// Thread-safe: the store serializes its writes.
#pragma once

#include <string>

#include <grpcpp/support/status.h>

#include "daemon/auth/principal.h"
#include "daemon/store/job_store.h"
#include "engine/util/status.h"

namespace petabox::daemon {

class AuditLog {
 public:
  // `store` (not owned) outlives this object.
  explicit AuditLog(JobStore* store) : store_(store) {}

  // Appends one record and returns `result` unchanged. `who` is the authentication's
  // outcome (an error: the call had no valid token). A failure to write is printed on
  // stderr; it does not change the call's result.
  grpc::Status Record(const StatusOr<Principal>& who, const std::string& method, const std::string& target,
                      const grpc::Status& result) const;

 private:
  JobStore* const store_;
};

// The caller of an owner-only call: PermissionDenied naming `what` for a tenant.
StatusOr<Principal> RequireOwner(StatusOr<Principal> who, const std::string& what);

// The gRPC code's name ("NOT_FOUND").
std::string CodeName(grpc::StatusCode code);

}  // namespace petabox::daemon
