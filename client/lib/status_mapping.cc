#include "client/lib/status_mapping.h"

#include <array>
#include <string_view>

namespace petabox::client {
namespace {

struct CodeRow {
  grpc::StatusCode grpc;
  const char* name;
  StatusCode petabox;
};

// One row per gRPC code, in gRPC's numbering. The petabox column is 1:1 where
// engine/util/status.h has the code; UNKNOWN and ABORTED, which it lacks, take the nearest
// meaning (and keep their name in the message). Update this table when status.h grows codes.
constexpr std::array<CodeRow, 17> kCodes = {{
    {grpc::StatusCode::OK, "OK", StatusCode::kOk},
    {grpc::StatusCode::CANCELLED, "CANCELLED", StatusCode::kCancelled},
    {grpc::StatusCode::UNKNOWN, "UNKNOWN", StatusCode::kInternal},
    {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT", StatusCode::kInvalidArgument},
    {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", StatusCode::kDeadlineExceeded},
    {grpc::StatusCode::NOT_FOUND, "NOT_FOUND", StatusCode::kNotFound},
    {grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS", StatusCode::kAlreadyExists},
    {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED", StatusCode::kPermissionDenied},
    {grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", StatusCode::kResourceExhausted},
    {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION", StatusCode::kFailedPrecondition},
    {grpc::StatusCode::ABORTED, "ABORTED", StatusCode::kUnavailable},
    {grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE", StatusCode::kOutOfRange},
    {grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED", StatusCode::kUnimplemented},
    {grpc::StatusCode::INTERNAL, "INTERNAL", StatusCode::kInternal},
    {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE", StatusCode::kUnavailable},
    {grpc::StatusCode::DATA_LOSS, "DATA_LOSS", StatusCode::kDataLoss},
    {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED", StatusCode::kUnauthenticated},
}};

const CodeRow* RowOf(grpc::StatusCode code) {
  for (const CodeRow& row : kCodes) {
    if (row.grpc == code) return &row;
  }
  return nullptr;
}

// Whether the petabox code carries the gRPC code's name (the mapping is 1:1 for it).
bool SameName(const CodeRow& row) { return std::string_view(StatusCodeName(row.petabox)) == row.name; }

// The row whose name prefixes `message` as "NAME: " and that maps onto `code` without
// being 1:1, or nullptr.
const CodeRow* PrefixRow(StatusCode code, std::string_view message) {
  for (const CodeRow& row : kCodes) {
    std::string_view name = row.name;
    if (row.petabox != code || SameName(row)) continue;
    if (message.size() >= name.size() + 2 && message.substr(0, name.size()) == name &&
        message.substr(name.size(), 2) == ": ") {
      return &row;
    }
  }
  return nullptr;
}

}  // namespace

const char* GrpcCodeName(grpc::StatusCode code) {
  const CodeRow* row = RowOf(code);
  return row ? row->name : "UNKNOWN";
}

StatusCode ToStatusCode(grpc::StatusCode code) {
  const CodeRow* row = RowOf(code);
  return row ? row->petabox : StatusCode::kInternal;
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  const CodeRow* row = RowOf(status.error_code());
  if (row == nullptr) row = RowOf(grpc::StatusCode::UNKNOWN);
  std::string message = status.error_message();
  if (message.empty()) message = "(no message from the server)";
  if (SameName(*row)) return Status(row->petabox, std::move(message));
  return Status(row->petabox, std::string(row->name) + ": " + message);
}

grpc::StatusCode GrpcCodeOf(const Status& status) {
  if (const CodeRow* row = PrefixRow(status.code(), status.message())) return row->grpc;
  for (const CodeRow& row : kCodes) {
    if (row.petabox == status.code() && SameName(row)) return row.grpc;
  }
  return grpc::StatusCode::UNKNOWN;
}

std::string DescribeRpcError(const Status& status) {
  if (PrefixRow(status.code(), status.message()) != nullptr) return status.message();
  return std::string(GrpcCodeName(GrpcCodeOf(status))) + ": " + status.message();
}

}  // namespace petabox::client
