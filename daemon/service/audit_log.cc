#include "daemon/service/audit_log.h"

#include <cstdio>

#include <google/protobuf/util/time_util.h>

namespace petabox::daemon {

std::string CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                           "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                           "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "CODE_" + std::to_string(i);
}

grpc::Status AuditLog::Record(const StatusOr<Principal>& who, const std::string& method, const std::string& target,
                              const grpc::Status& result) const {
  v1::AuditRecord record;
  *record.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  if (who.ok()) record.set_principal(who->label());
  record.set_method(method);
  record.set_target(target);
  record.set_code(CodeName(result.error_code()));
  record.set_message(result.error_message());
  if (auto stored = store_->AppendAudit(std::move(record)); !stored.ok()) {
    std::fprintf(stderr, "petaboxd: cannot write the audit log: %s\n", stored.status().ToString().c_str());
  }
  return result;
}

StatusOr<Principal> RequireOwner(StatusOr<Principal> who, const std::string& what) {
  if (who.ok() && !who->is_owner()) {
    return PermissionDenied(what + " is for the box owner only (tenant '" + who->tenant + "')");
  }
  return who;
}

}  // namespace petabox::daemon
