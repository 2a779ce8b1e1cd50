#include "client/lib/status_mapping.h"

#include <gtest/gtest.h>

namespace petabox::client {
namespace {

TEST(StatusMapping, OkIsOk) { EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok()); }

TEST(StatusMapping, CodesThatStatusHasMapOneToOne) {
  Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no job jobs/j-1"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no job jobs/j-1");
  EXPECT_EQ(s.ToString(), "NOT_FOUND: no job jobs/j-1");
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::INVALID_ARGUMENT), StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::FAILED_PRECONDITION), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::RESOURCE_EXHAUSTED), StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::UNIMPLEMENTED), StatusCode::kUnimplemented);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::UNAVAILABLE), StatusCode::kUnavailable);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::INTERNAL), StatusCode::kInternal);
}

TEST(StatusMapping, ApiCodesMapOneToOne) {
  Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad token"));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "bad token");
  EXPECT_EQ(DescribeRpcError(s), "UNAUTHENTICATED: bad token");
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::ALREADY_EXISTS), StatusCode::kAlreadyExists);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::DATA_LOSS), StatusCode::kDataLoss);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::PERMISSION_DENIED), StatusCode::kPermissionDenied);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::OUT_OF_RANGE), StatusCode::kOutOfRange);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::CANCELLED), StatusCode::kCancelled);
  EXPECT_EQ(ToStatusCode(grpc::StatusCode::DEADLINE_EXCEEDED), StatusCode::kDeadlineExceeded);
}

TEST(StatusMapping, CodesStatusLacksKeepTheirNameInTheMessage) {
  Status aborted = FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "conflict"));
  EXPECT_EQ(aborted.code(), StatusCode::kUnavailable);
  EXPECT_EQ(aborted.message(), "ABORTED: conflict");
  EXPECT_EQ(DescribeRpcError(aborted), "ABORTED: conflict");
  Status unknown = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNKNOWN, "?"));
  EXPECT_EQ(unknown.code(), StatusCode::kInternal);
  EXPECT_EQ(GrpcCodeOf(unknown), grpc::StatusCode::UNKNOWN);
}

TEST(StatusMapping, EveryGrpcCodeRoundTrips) {
  for (int code = 1; code <= 16; ++code) {
    auto grpc_code = static_cast<grpc::StatusCode>(code);
    Status s = FromGrpcStatus(grpc::Status(grpc_code, "why"));
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(GrpcCodeOf(s), grpc_code) << GrpcCodeName(grpc_code);
    EXPECT_EQ(DescribeRpcError(s), std::string(GrpcCodeName(grpc_code)) + ": why");
  }
}

TEST(StatusMapping, DistinguishesAbortedFromUnavailable) {
  Status aborted = FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "conflict"));
  Status unavailable = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect"));
  EXPECT_EQ(aborted.code(), unavailable.code());
  EXPECT_EQ(GrpcCodeOf(aborted), grpc::StatusCode::ABORTED);
  EXPECT_EQ(GrpcCodeOf(unavailable), grpc::StatusCode::UNAVAILABLE);
  Status deadline = FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"));
  EXPECT_EQ(GrpcCodeOf(deadline), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(StatusMapping, LocalStatusesMapByName) {
  EXPECT_EQ(GrpcCodeOf(InvalidArgument("x")), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcCodeOf(Internal("x")), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(GrpcCodeOf(Unauthenticated("x")), grpc::StatusCode::UNAUTHENTICATED);
  // A local message that happens to start like a prefix is read by its own code.
  EXPECT_EQ(GrpcCodeOf(NotFound("ABORTED: x")), grpc::StatusCode::NOT_FOUND);
}

TEST(StatusMapping, EmptyServerMessageIsSaidSo) {
  Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, ""));
  EXPECT_EQ(s.message(), "(no message from the server)");
}

TEST(StatusMapping, CodeNames) {
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::DATA_LOSS), "DATA_LOSS");
  EXPECT_STREQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace petabox::client
