// The client library against an in-process fake daemon: metadata, deadlines, retries,
// streams in both directions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "client/lib/box_client.h"
#include "client/lib/connection.h"
#include "client/lib/dataset_client.h"
#include "client/lib/job_client.h"
#include "client/lib/status_mapping.h"
#include "engine/util/sha256.h"
#include "tests/client/fake_daemon.h"

namespace petabox::client {
namespace {

using testing::FakeDaemon;

std::unique_ptr<Connection> Connect(const FakeDaemon& daemon, const std::string& token) {
  ConnectionOptions options;
  options.server = daemon.address();
  options.token = token;
  auto connection = Connection::Open(options);
  EXPECT_TRUE(connection.ok());
  return std::move(connection).value();
}

TEST(Clients, EveryCallCarriesTheBearerToken) {
  FakeDaemon daemon;
  daemon.script().token = "s3cret";
  daemon.script().box.set_daemon_version("0.1.0");
  auto connection = Connect(daemon, "s3cret");
  StatusOr<v1::Box> box = BoxClient(*connection).GetBox();
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  EXPECT_EQ(box->daemon_version(), "0.1.0");
  ASSERT_EQ(daemon.record().authorization.size(), 1u);
  EXPECT_EQ(daemon.record().authorization[0], "Bearer s3cret");
}

TEST(Clients, WrongTokenIsUnauthenticatedWithTheServersMessage) {
  FakeDaemon daemon;
  daemon.script().token = "s3cret";
  auto connection = Connect(daemon, "wrong");
  StatusOr<v1::Job> job = JobClient(*connection).GetJob("jobs/j-1");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(GrpcCodeOf(job.status()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(DescribeRpcError(job.status()), "UNAUTHENTICATED: missing or wrong token");
}

TEST(Clients, NoTokenSendsNoMetadata) {
  FakeDaemon daemon;
  auto connection = Connect(daemon, "");
  (void)BoxClient(*connection).GetBox();
  ASSERT_EQ(daemon.record().authorization.size(), 1u);
  EXPECT_EQ(daemon.record().authorization[0], "");
}

TEST(Clients, UnaryCallsHaveADeadline) {
  ConnectionOptions options;
  options.unary_timeout = std::chrono::milliseconds(1234);
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  auto before = std::chrono::system_clock::now();
  auto unary = (*connection)->NewContext(CallKind::kUnary);
  EXPECT_GT(unary->deadline(), before + std::chrono::milliseconds(1000));
  EXPECT_LT(unary->deadline(), before + std::chrono::seconds(10));
  auto stream = (*connection)->NewContext(CallKind::kStream);
  EXPECT_GT(stream->deadline(), before + std::chrono::hours(24 * 365));
}

TEST(Clients, BadConnectionOptions) {
  ConnectionOptions options;
  options.server = "";
  EXPECT_EQ(Connection::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.server = "127.0.0.1:1";
  options.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(Connection::Open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(Clients, UnreachableDaemonIsUnavailable) {
  ConnectionOptions options;
  options.server = "127.0.0.1:1";
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  StatusOr<v1::Box> box = BoxClient(**connection).GetBox();
  ASSERT_FALSE(box.ok());
  EXPECT_EQ(GrpcCodeOf(box.status()), grpc::StatusCode::UNAVAILABLE);
}

TEST(Clients, CreateJobRetriesWithTheSameRequestId) {
  FakeDaemon daemon;
  daemon.script().create_unavailable = 2;
  auto connection = Connect(daemon, "");
  v1::Job job;
  job.set_spec_yaml("name: x\n");
  RetryPolicy policy;  // no sleep: retries at once
  StatusOr<v1::Job> created = JobClient(*connection).CreateJobWithRetry(job, "req-1", policy);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name(), "jobs/j-000000000001");
  EXPECT_EQ(daemon.record().request_ids, (std::vector<std::string>{"req-1", "req-1", "req-1"}));
}

TEST(Clients, WatchStreamsEventsAndEndsOk) {
  FakeDaemon daemon;
  for (int i = 1; i <= 3; ++i) daemon.script().events.push_back(testing::Event(i));
  auto connection = Connect(daemon, "");
  std::vector<int64_t> seen;
  Status status = JobClient(*connection).WatchJob("jobs/j-1", 1, [&](const v1::JobEvent& event) {
    seen.push_back(event.sequence());
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(daemon.record().watch_after, (std::vector<int64_t>{1}));
}

TEST(Clients, WatchCallbackErrorCancelsTheStream) {
  FakeDaemon daemon;
  for (int i = 1; i <= 3; ++i) daemon.script().events.push_back(testing::Event(i));
  auto connection = Connect(daemon, "");
  Status status = JobClient(*connection).WatchJob("jobs/j-1", 0, [](const v1::JobEvent&) {
    return Internal("stop");
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "stop");
}

TEST(Clients, LogsPage) {
  FakeDaemon daemon;
  daemon.script().logs = {"a", "b", "c"};
  auto connection = Connect(daemon, "");
  StatusOr<v1::GetJobLogsResponse> page = JobClient(*connection).GetJobLogs("jobs/j-1", 1, 0);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->lines_size(), 2);
  EXPECT_EQ(page->lines(0), "b");
  EXPECT_EQ(page->last_line(), 3);
}

TEST(Clients, UploadSendsHeaderThenData) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("petabox-clients-upload-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.bin", std::ios::binary) << std::string((1 << 20) + 10, 'a');
  std::ofstream(dir / "b.bin", std::ios::binary) << "bee";
  StatusOr<UploadPlan> plan = PlanUpload(dir.string(), "set");
  ASSERT_TRUE(plan.ok());
  FakeDaemon daemon;
  auto connection = Connect(daemon, "t");
  std::vector<int64_t> progress;
  StatusOr<v1::Dataset> dataset =
      DatasetClient(*connection).Upload(*plan, [&](int64_t sent) { progress.push_back(sent); });
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->name(), "datasets/set");
  testing::FakeRecord record = daemon.record();
  EXPECT_EQ(record.upload_messages, 3);  // header, 1 MiB, the rest
  EXPECT_EQ(record.upload_header.files_size(), 2);
  EXPECT_TRUE(record.upload_header.data().empty());
  EXPECT_EQ(record.upload_data, std::string((1 << 20) + 10, 'a') + "bee");
  EXPECT_EQ(progress, (std::vector<int64_t>{1 << 20, (1 << 20) + 13}));
}

TEST(Clients, CheckpointChunksArrive) {
  FakeDaemon daemon;
  daemon.script().checkpoint = "0123456";
  daemon.script().checkpoint_sha256 = Sha256Hex("0123456");
  auto connection = Connect(daemon, "");
  std::string bytes, sha;
  Status status = JobClient(*connection).DownloadCheckpoint("jobs/j-1", [&](const v1::CheckpointChunk& chunk) {
    bytes += chunk.data();
    if (!chunk.sha256().empty()) sha = chunk.sha256();
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(bytes, "0123456");
  EXPECT_EQ(sha, Sha256Hex("0123456"));
}

}  // namespace
}  // namespace petabox::client
