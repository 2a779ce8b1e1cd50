#include "daemon/service/status_mapping.h"

namespace petabox::daemon {

grpc::Status ToGrpcStatus(const Status& status) {
  static constexpr struct {
    StatusCode from;
    grpc::StatusCode to;
  } kCodes[] = {
      {StatusCode::kOk, grpc::StatusCode::OK},
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
      {StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
  };
  for (const auto& c : kCodes) {
    if (c.from == status.code()) return c.to == grpc::StatusCode::OK ? grpc::Status::OK : grpc::Status(c.to, status.message());
  }
  return grpc::Status(grpc::StatusCode::UNKNOWN, status.message());
}

}  // namespace petabox::daemon
