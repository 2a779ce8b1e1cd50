#include "client/lib/retry.h"

#include <gtest/gtest.h>

#include <vector>

#include "client/lib/status_mapping.h"

namespace petabox::client {
namespace {

using std::chrono::milliseconds;

Status Grpc(grpc::StatusCode code) { return FromGrpcStatus(grpc::Status(code, "x")); }

TEST(Retry, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(Grpc(grpc::StatusCode::UNAVAILABLE)));
  EXPECT_TRUE(IsRetryable(Grpc(grpc::StatusCode::DEADLINE_EXCEEDED)));
  EXPECT_FALSE(IsRetryable(Grpc(grpc::StatusCode::INVALID_ARGUMENT)));
  EXPECT_FALSE(IsRetryable(Grpc(grpc::StatusCode::UNAUTHENTICATED)));
  EXPECT_FALSE(IsRetryable(Grpc(grpc::StatusCode::ABORTED)));
}

TEST(Retry, RetriesUntilSuccessWithDoublingWaits) {
  std::vector<milliseconds> waits;
  RetryPolicy policy;
  policy.sleep = [&](milliseconds wait) { waits.push_back(wait); };
  int calls = 0;
  StatusOr<int> result = CallWithRetry<int>(policy, [&]() -> StatusOr<int> {
    if (++calls < 3) return Grpc(calls == 1 ? grpc::StatusCode::UNAVAILABLE : grpc::StatusCode::DEADLINE_EXCEEDED);
    return 7;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000)}));
}

TEST(Retry, GivesUpAfterMaxRetries) {
  RetryPolicy policy;
  int reported = 0;
  policy.on_retry = [&](const Status&, milliseconds) { ++reported; };
  int calls = 0;
  StatusOr<int> result = CallWithRetry<int>(policy, [&]() -> StatusOr<int> {
    ++calls;
    return Grpc(grpc::StatusCode::UNAVAILABLE);
  });
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(calls, 4);  // the first attempt and three retries
  EXPECT_EQ(reported, 3);
}

TEST(Retry, OtherErrorsAreNotRetried) {
  int calls = 0;
  StatusOr<int> result = CallWithRetry<int>(RetryPolicy{}, [&]() -> StatusOr<int> {
    ++calls;
    return Grpc(grpc::StatusCode::INVALID_ARGUMENT);
  });
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(calls, 1);
}

TEST(Retry, RequestIds) {
  std::string a = NewRequestId(), b = NewRequestId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace petabox::client
