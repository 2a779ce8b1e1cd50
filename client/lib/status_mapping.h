// Conversion of gRPC call results into petabox Status values, for the client library and
// the CLI. Codes that engine/util/status.h has map 1:1; the others (UNKNOWN, ABORTED) map
// onto the nearest petabox code and keep their gRPC name at the front of the message, so
// that every gRPC code stays recoverable (GrpcCodeOf) and printable (DescribeRpcError).
//
// Thread-safe (pure functions).
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "engine/util/status.h"

namespace petabox::client {

// gRPC's canonical code name: "UNAUTHENTICATED", "DEADLINE_EXCEEDED", ...; "UNKNOWN" for a
// value outside the enum.
const char* GrpcCodeName(grpc::StatusCode code);

// The petabox code a gRPC code maps onto: the code of the same name where
// engine/util/status.h has one, else the nearest (table in status_mapping.cc).
StatusCode ToStatusCode(grpc::StatusCode code);

// OK for OK. Otherwise a Status with ToStatusCode(code) and the server's message, prefixed
// with "GRPC_NAME: " when the petabox code does not have the gRPC code's name
// (ABORTED becomes UNAVAILABLE "ABORTED: conflict").
Status FromGrpcStatus(const grpc::Status& status);

// The gRPC code a Status stands for: the inverse of FromGrpcStatus. For a Status made
// elsewhere, the gRPC code with the same name as its petabox code.
grpc::StatusCode GrpcCodeOf(const Status& status);

// "UNAUTHENTICATED: bad token": the gRPC code's name and the server's message, each once.
std::string DescribeRpcError(const Status& status);

}  // namespace petabox::client
