#include "client/cli/watch.h"

#include <gtest/gtest.h>

#include <sstream>

#include "client/lib/status_mapping.h"
#include "tests/client/fake_daemon.h"

namespace petabox::cli {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, DoublesUpToMaxWithinBudget) {
  ReconnectBackoff backoff(std::chrono::seconds(30));
  std::vector<milliseconds> waits;
  while (auto wait = backoff.Next()) waits.push_back(*wait);
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000), milliseconds(2000),
                                              milliseconds(4000), milliseconds(8000), milliseconds(8000),
                                              milliseconds(6500)}));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(500));
}

// The fake daemon's events of a job that runs, evaluates and ends in `final_state`.
void ScriptJob(testing::FakeDaemon& daemon, v1::Job::State final_state) {
  std::vector<v1::JobEvent>& events = daemon.script().events;
  events.push_back(testing::Event(1));
  events.back().mutable_state_change()->set_state(v1::Job::RUNNING);
  for (int step = 1; step <= 3; ++step) {
    events.push_back(testing::Event(1 + step));
    events.back().mutable_progress()->set_step(step);
    events.back().mutable_progress()->set_total_steps(3);
  }
  events.push_back(testing::Event(5));
  events.back().mutable_eval()->set_test_accuracy(0.5);
  events.push_back(testing::Event(6));
  events.back().mutable_state_change()->set_state(final_state);
  if (final_state == v1::Job::SUCCEEDED) events.back().mutable_state_change()->mutable_result()->set_steps(3);
  if (final_state == v1::Job::FAILED) events.back().mutable_state_change()->set_reason("boom");
}

class WatchTest : public ::testing::Test {
 protected:
  StatusOr<JobEnd> Watch(ReconnectBackoff backoff = ReconnectBackoff()) {
    client::ConnectionOptions options;
    options.server = daemon_.address();
    auto connection = client::Connection::Open(options);
    EXPECT_TRUE(connection.ok());
    client::JobClient jobs(**connection);
    EventPrinter printer(out_, err_, OutputMode::kLines, 80);
    return WatchToEnd(jobs, "jobs/j-1", printer, backoff, [this](milliseconds wait) { waits_.push_back(wait); });
  }

  testing::FakeDaemon daemon_;
  std::ostringstream out_, err_;
  std::vector<milliseconds> waits_;
};

TEST_F(WatchTest, FollowsToTheEnd) {
  ScriptJob(daemon_, v1::Job::SUCCEEDED);
  StatusOr<JobEnd> end = Watch();
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(end->state, v1::Job::SUCCEEDED);
  ASSERT_TRUE(end->result.has_value());
  EXPECT_EQ(end->result->steps(), 3);
  EXPECT_EQ(out_.str(),
            "state RUNNING\n"
            "progress epoch 0 step 1/3 loss 0 samples/s 0.0 eta --\n"
            "progress epoch 0 step 2/3 loss 0 samples/s 0.0 eta --\n"
            "progress epoch 0 step 3/3 loss 0 samples/s 0.0 eta 0s\n"
            "eval epoch 0 step 0: test accuracy 50.00%, test loss 0\n"
            "state SUCCEEDED\n");
  EXPECT_TRUE(waits_.empty());
}

TEST_F(WatchTest, ReconnectsAfterTheLastSequenceSeen) {
  ScriptJob(daemon_, v1::Job::FAILED);
  daemon_.script().watch_break_after = 2;
  StatusOr<JobEnd> end = Watch();
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(end->state, v1::Job::FAILED);
  EXPECT_EQ(end->reason, "boom");
  EXPECT_EQ(daemon_.record().watch_after, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(500)}));
  // Every event printed once, the reconnection announced.
  EXPECT_EQ(out_.str().find("state RUNNING"), out_.str().rfind("state RUNNING"));
  EXPECT_NE(err_.str().find("UNAVAILABLE: daemon restarting"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("reconnecting after event 2"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("reconnected"), std::string::npos) << err_.str();
}

TEST_F(WatchTest, OtherErrorsEndTheWatch) {
  daemon_.script().token = "needed";
  StatusOr<JobEnd> end = Watch();
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(client::GrpcCodeOf(end.status()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(WatchTest, GivesUpWhenTheBudgetIsSpent) {
  client::ConnectionOptions options;
  options.server = "127.0.0.1:1";  // nothing listens
  auto connection = client::Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  client::JobClient jobs(**connection);
  EventPrinter printer(out_, err_, OutputMode::kLines, 80);
  ReconnectBackoff backoff(milliseconds(1500));
  StatusOr<JobEnd> end = WatchToEnd(jobs, "jobs/j-1", printer, backoff, [this](milliseconds w) { waits_.push_back(w); });
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(client::GrpcCodeOf(end.status()), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000)}));
}

}  // namespace
}  // namespace petabox::cli
