// JobService against a real petaboxd: submit and watch to the end, queueing on one device,
// cancel, idempotent create, paging, bad specs, authentication, GetBox.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <set>

#include "engine/util/sha256.h"

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

using v1::Job;

TEST(DaemonJobsTest, SubmitAndWatchToSucceeded) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 30));
  EXPECT_EQ(job.name().rfind("jobs/j-", 0), 0u) << job.name();
  EXPECT_EQ(job.display_name(), "short-mlp");
  grpc::Status status;
  std::vector<v1::JobEvent> events = daemon.Watch(job.name(), 0, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(events.empty());
  std::vector<Job::State> states;
  int progress = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].sequence(), static_cast<int64_t>(i) + 1);
    if (events[i].has_state_change()) states.push_back(events[i].state_change().state());
    if (events[i].has_progress()) ++progress;
  }
  EXPECT_EQ(states, (std::vector<Job::State>{Job::QUEUED, Job::STARTING, Job::RUNNING, Job::SUCCEEDED}));
  EXPECT_GE(progress, 3);
  const v1::JobEvent& last = events.back();
  ASSERT_TRUE(last.has_state_change());
  EXPECT_EQ(last.state_change().result().steps(), 30);
  EXPECT_GT(last.state_change().result().test_accuracy(), 0.2);  // synthetic data is easy
  const Job done = daemon.Get(job.name());
  EXPECT_EQ(done.state(), Job::SUCCEEDED);
  EXPECT_EQ(done.progress().step(), 30);
  EXPECT_TRUE(done.has_end_time());
  // A watch resumed from the middle sends only the rest; one past the end is OUT_OF_RANGE.
  std::vector<v1::JobEvent> rest = daemon.Watch(job.name(), events.size() - 2, &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].sequence(), static_cast<int64_t>(events.size()) - 1);
  daemon.Watch(job.name(), events.size() + 5, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  // Logs hold the worker's output.
  v1::GetJobLogsRequest logs_request;
  logs_request.set_name(job.name());
  v1::GetJobLogsResponse logs;
  ASSERT_TRUE(daemon.jobs().GetJobLogs(daemon.Context().get(), logs_request, &logs).ok());
  EXPECT_GT(logs.lines_size(), 0);
  EXPECT_EQ(logs.last_line(), logs.lines_size());
}

TEST(DaemonJobsTest, DownloadCheckpointStreamsTheFileWithItsChecksum) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20));
  v1::DownloadCheckpointRequest request;
  request.set_name(job.name());
  const Job done = daemon.WaitForState(job.name(), Job::SUCCEEDED);
  ASSERT_TRUE(done.has_checkpoint());
  auto context = daemon.Context();
  auto reader = daemon.jobs().DownloadCheckpoint(context.get(), request);
  v1::CheckpointChunk chunk;
  std::string bytes, sha256;
  int64_t total = -1, step = -1;
  while (reader->Read(&chunk)) {
    bytes += chunk.data();
    step = chunk.step();
    if (!chunk.sha256().empty()) sha256 = chunk.sha256(), total = chunk.total_bytes();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(step, 20);
  EXPECT_EQ(total, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(sha256, Sha256Hex(bytes));
  std::ifstream file(daemon.data_dir() + "/jobs/" + job.name().substr(5) + "/checkpoints/step-00000020.safetensors",
                     std::ios::binary);
  EXPECT_EQ(bytes, std::string(std::istreambuf_iterator<char>(file), {}));
  // A job without a checkpoint (cancelled while queued behind another): FAILED_PRECONDITION.
  const Job holder = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  const Job fresh = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  v1::CancelJobRequest cancel;
  cancel.set_name(fresh.name());
  Job reply;
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &reply).ok());
  ASSERT_EQ(reply.state(), Job::CANCELLED);
  request.set_name(fresh.name());
  auto context2 = daemon.Context();
  auto none = daemon.jobs().DownloadCheckpoint(context2.get(), request);
  while (none->Read(&chunk)) {
  }
  EXPECT_EQ(none->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  cancel.set_name(holder.name());
  EXPECT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &reply).ok());
}

TEST(DaemonJobsTest, TwoJobsOnOneDeviceRunInOrder) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job first = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 60));
  const Job second = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20));
  EXPECT_EQ(daemon.Get(second.name()).state(), Job::QUEUED);
  const Job a = daemon.WaitForState(first.name(), Job::SUCCEEDED);
  const Job b = daemon.WaitForState(second.name(), Job::SUCCEEDED);
  // The second started only after the first ended.
  EXPECT_GE(b.start_time().seconds() * 1000 + b.start_time().nanos() / 1000000,
            a.end_time().seconds() * 1000 + a.end_time().nanos() / 1000000);
}

TEST(DaemonJobsTest, HigherPriorityGoesFirst) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job blocker = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 40));
  const Job low = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10), 0);
  const Job high = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10), 5);
  const Job h = daemon.WaitForState(high.name(), Job::SUCCEEDED);
  const Job l = daemon.WaitForState(low.name(), Job::SUCCEEDED);
  EXPECT_LE(h.start_time().seconds() * 1000000000LL + h.start_time().nanos(),
            l.start_time().seconds() * 1000000000LL + l.start_time().nanos());
  daemon.WaitForState(blocker.name(), Job::SUCCEEDED);
}

TEST(DaemonJobsTest, MultiDeviceJobsShareTheBoxOnDisjointDevices) {
  DaemonHarness daemon("devices: [CPU:0, CPU:1, CPU:2, CPU:3]\n");
  daemon.Start();
  const Job a = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000, 0, "device_count: 2\n"));
  const Job b = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000, 0, "device_count: 2\n"));
  const Job c = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10, 0, "device_count: 1\n"));
  EXPECT_EQ(a.device_count(), 2);
  const Job ra = daemon.WaitFor(a.name(), [](const Job& j) { return j.progress().step() > 0; });
  const Job rb = daemon.WaitFor(b.name(), [](const Job& j) { return j.progress().step() > 0; });
  EXPECT_EQ(std::vector<std::string>(ra.devices().begin(), ra.devices().end()),
            (std::vector<std::string>{"CPU:0", "CPU:1"}));
  EXPECT_EQ(std::vector<std::string>(rb.devices().begin(), rb.devices().end()),
            (std::vector<std::string>{"CPU:2", "CPU:3"}));
  // The box is full: the one-device job waits.
  EXPECT_EQ(daemon.Get(c.name()).state(), Job::QUEUED);
  v1::CancelJobRequest cancel;
  Job reply;
  cancel.set_name(a.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &reply).ok());
  const Job rc = daemon.WaitForState(c.name(), Job::SUCCEEDED);
  EXPECT_EQ(rc.result().steps(), 10);
  cancel.set_name(b.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &reply).ok());
  daemon.WaitForState(b.name(), Job::CANCELLED, std::chrono::seconds(30));
}

TEST(DaemonJobsTest, CancelRunningAndQueuedJobs) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job running = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  const Job queued = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  daemon.WaitFor(running.name(), [](const Job& j) { return j.progress().step() > 0; });
  v1::CancelJobRequest request;
  Job reply;
  request.set_name(queued.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), request, &reply).ok());
  EXPECT_EQ(reply.state(), Job::CANCELLED);
  request.set_name(running.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), request, &reply).ok());
  EXPECT_EQ(reply.state(), Job::CANCELLING);
  const Job cancelled = daemon.WaitForState(running.name(), Job::CANCELLED, std::chrono::seconds(30));
  EXPECT_LT(cancelled.progress().step(), 1000000);
  // Cancelling again is FAILED_PRECONDITION; the daemon still runs new jobs.
  grpc::Status again = daemon.jobs().CancelJob(daemon.Context().get(), request, &reply);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const Job next = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  daemon.WaitForState(next.name(), Job::SUCCEEDED);
}

TEST(DaemonJobsTest, CreateWithRequestIdIsIdempotent) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string spec = ShortJobSpec(daemon.dataset_dir(), 10);
  const Job a = daemon.Submit(spec, 0, "retry-me-1");
  const Job b = daemon.Submit(spec, 0, "retry-me-1");
  const Job c = daemon.Submit(spec, 0, "another-id");
  EXPECT_EQ(a.name(), b.name());
  EXPECT_NE(a.name(), c.name());
  v1::ListJobsRequest request;
  v1::ListJobsResponse response;
  ASSERT_TRUE(daemon.jobs().ListJobs(daemon.Context().get(), request, &response).ok());
  EXPECT_EQ(response.jobs_size(), 2);
}

TEST(DaemonJobsTest, ListJobsPagesAndFilters) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  // A long job holds the device so the others stay QUEUED.
  const Job holder = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  std::set<std::string> created = {holder.name()};
  for (int i = 0; i < 6; ++i) created.insert(daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10)).name());
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListJobsRequest request;
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListJobsResponse response;
    ASSERT_TRUE(daemon.jobs().ListJobs(daemon.Context().get(), request, &response).ok());
    EXPECT_LE(response.jobs_size(), 3);
    for (const Job& j : response.jobs()) EXPECT_TRUE(seen.insert(j.name()).second) << "twice: " << j.name();
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, created);
  EXPECT_EQ(pages, 3);
  v1::ListJobsRequest queued_only;
  queued_only.add_states(Job::QUEUED);
  v1::ListJobsResponse response;
  ASSERT_TRUE(daemon.jobs().ListJobs(daemon.Context().get(), queued_only, &response).ok());
  EXPECT_EQ(response.jobs_size(), 6);
  v1::ListJobsRequest bad;
  bad.set_page_token("not-a-token");
  EXPECT_EQ(daemon.jobs().ListJobs(daemon.Context().get(), bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(DaemonJobsTest, BadSpecsAreRejectedNamingTheField) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  struct Case {
    std::string spec;
    grpc::StatusCode code;
    std::string mentions;
  };
  const std::string dir = daemon.dataset_dir();
  const std::vector<Case> cases = {
      {ShortJobSpec(dir, 10, 0, "optimizer: {name: sgd, lr: -1}\n"), grpc::StatusCode::INVALID_ARGUMENT, ""},
      {"model: mlp\noptimizer: {lr: -1}\n", grpc::StatusCode::INVALID_ARGUMENT, "optimizer.lr"},
      {"model: [unclosed\n", grpc::StatusCode::INVALID_ARGUMENT, "line"},
      {"modle: mlp\n", grpc::StatusCode::INVALID_ARGUMENT, "modle"},
      {"model: mlp\ndevice_count: 4\n", grpc::StatusCode::RESOURCE_EXHAUSTED, "device_count"},
      {"model: mlp\ndataset: {dir: /etc}\n", grpc::StatusCode::INVALID_ARGUMENT, "dataset.dir"},
      {"model: mlp\ndataset: {source: datasets/nope}\n", grpc::StatusCode::FAILED_PRECONDITION, "dataset.source"},
      {"", grpc::StatusCode::INVALID_ARGUMENT, "spec_yaml"},
  };
  for (const Case& c : cases) {
    v1::CreateJobRequest request;
    request.mutable_job()->set_spec_yaml(c.spec);
    Job job;
    grpc::Status status = daemon.jobs().CreateJob(daemon.Context().get(), request, &job);
    EXPECT_EQ(status.error_code(), c.code) << c.spec << " -> " << status.error_message();
    EXPECT_NE(status.error_message().find(c.mentions), std::string::npos) << status.error_message();
  }
  v1::GetJobRequest get;
  get.set_name("jobs/j-000000000000");
  Job job;
  EXPECT_EQ(daemon.jobs().GetJob(daemon.Context().get(), get, &job).error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_name("job/x");
  EXPECT_EQ(daemon.jobs().GetJob(daemon.Context().get(), get, &job).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(DaemonJobsTest, WrongOrMissingTokenIsUnauthenticated) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  v1::ListJobsRequest request;
  v1::ListJobsResponse response;
  grpc::Status wrong = daemon.jobs().ListJobs(daemon.Context("not-the-token").get(), request, &response);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext bare;
  EXPECT_EQ(daemon.jobs().ListJobs(&bare, request, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::Box box;
  EXPECT_EQ(daemon.box().GetBox(daemon.Context("x").get(), v1::GetBoxRequest(), &box).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The owner token file is private.
  struct stat st {};
  ASSERT_EQ(::stat((daemon.data_dir() + "/owner.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(DaemonJobsTest, GetBoxShowsDevicesAndWhoHoldsThem) {
  DaemonHarness daemon("devices: [CPU:0, CPU:1]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  daemon.WaitForState(job.name(), Job::RUNNING);
  v1::Box box;
  ASSERT_TRUE(daemon.box().GetBox(daemon.Context().get(), v1::GetBoxRequest(), &box).ok());
  ASSERT_EQ(box.devices_size(), 2);
  EXPECT_EQ(box.devices(0).name(), "CPU:0");
  EXPECT_EQ(box.devices(0).kind(), "cpu");
  EXPECT_EQ(box.devices(0).state(), v1::Device::BUSY);
  EXPECT_EQ(box.devices(0).job(), job.name());
  EXPECT_EQ(box.devices(1).state(), v1::Device::IDLE);
  EXPECT_EQ(box.running_jobs(), 1);
  EXPECT_FALSE(box.daemon_version().empty());
}

}  // namespace
}  // namespace petabox::daemon::testing
