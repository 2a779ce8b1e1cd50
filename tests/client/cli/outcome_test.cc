#include "client/cli/outcome.h"

#include <gtest/gtest.h>

#include "client/lib/status_mapping.h"

namespace petabox::cli {
namespace {

TEST(Outcome, ExitCodes) {
  EXPECT_EQ(Success().exit_code, 0);
  EXPECT_TRUE(Success().error.empty());
  Outcome usage = UsageError(InvalidArgument("cannot read job spec x.yaml"));
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(usage.error, "cannot read job spec x.yaml");
}

TEST(Outcome, ServerErrorsNameTheGrpcCode) {
  Status status = client::FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad token"));
  Outcome outcome = ServerError(status);
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(outcome.error, "UNAUTHENTICATED: bad token");
  Status not_found = client::FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no job jobs/j-1"));
  EXPECT_EQ(ServerError(not_found, "hint").error, "NOT_FOUND: no job jobs/j-1 (hint)");
  // Server-side INVALID_ARGUMENT (a bad spec) is a server error, not a usage error.
  Status bad_spec = client::FromGrpcStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "epochs: must be > 0"));
  EXPECT_EQ(ServerError(bad_spec).exit_code, 3);
}

TEST(Outcome, JobStates) {
  EXPECT_EQ(ExitCodeForJobState(v1::Job::SUCCEEDED), 0);
  EXPECT_EQ(ExitCodeForJobState(v1::Job::FAILED), 4);
  EXPECT_EQ(ExitCodeForJobState(v1::Job::CANCELLED), 4);
  EXPECT_EQ(ExitCodeForJobState(v1::Job::RUNNING), 0);
}

TEST(Outcome, HelpListsEveryCode) {
  std::string help = ExitCodeHelp();
  for (const char* line : {"  0  ", "  2  usage", "  3  server", "  4  the job ended FAILED or CANCELLED"}) {
    EXPECT_NE(help.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace petabox::cli
