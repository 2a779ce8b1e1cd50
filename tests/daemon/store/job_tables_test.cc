// JobTables: jobs, idempotent creates, paging and filters, numbered events and log lines,
// and atomicity of job+event updates.
#include "daemon/store/schema.h"
#include "daemon/store/job_tables.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::Contains;
using testutil::MakeJob;
using testutil::Names;
using testutil::ProgressEvent;
using testutil::SameMessage;
using testutil::StateEvent;

// A database at a path with its job tables; both null when it cannot be opened.
struct OpenedTables {
  std::unique_ptr<sqlite::Db> db;
  std::unique_ptr<JobTables> jobs;
};

OpenedTables OpenTables(const std::string& path) {
  OpenedTables out;
  StatusOr<sqlite::Db> db = sqlite::Db::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return out;
  out.db = std::make_unique<sqlite::Db>(std::move(db).value());
  Status schema = CreateOrMigrateSchema(*out.db);
  EXPECT_TRUE(schema.ok()) << schema.ToString();
  if (!schema.ok()) return {};
  out.jobs = std::make_unique<JobTables>(out.db.get());
  return out;
}

class JobTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    opened_ = OpenTables(db_path());
    ASSERT_TRUE(opened_.jobs);
    jobs_ = opened_.jobs.get();
  }

  std::string db_path() const { return dir_.path() + "/petabox.db"; }

  v1::Job Create(const v1::Job& job, const std::string& request_id = "") {
    bool created = false;
    StatusOr<v1::Job> stored = jobs_->CreateJob(job, request_id, &created);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_TRUE(created);
    return stored.ok() ? *stored : v1::Job();
  }

  std::vector<v1::Job> ListAll(int page_size, const std::vector<v1::Job::State>& states, int* pages) {
    return testutil::ListAll(*jobs_, page_size, states, pages);
  }

  testutil::TempDir dir_;
  OpenedTables opened_;
  JobTables* jobs_ = nullptr;
};

TEST_F(JobTablesTest, CreateGetUpdate) {
  v1::Job job = MakeJob(1);
  EXPECT_TRUE(SameMessage(Create(job), job));

  StatusOr<v1::Job> got = jobs_->GetJob(job.name());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(SameMessage(*got, job));

  job.set_state(v1::Job::RUNNING);
  job.add_devices("CPU:0");
  ASSERT_TRUE(jobs_->UpdateJob(job).ok());
  got = jobs_->GetJob(job.name());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(SameMessage(*got, job));
}
TEST_F(JobTablesTest, UnknownAndDuplicateNames) {
  EXPECT_EQ(jobs_->GetJob("jobs/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->UpdateJob(MakeJob(9)).code(), StatusCode::kNotFound);
  Create(MakeJob(1));
  bool created = true;
  StatusOr<v1::Job> again = jobs_->CreateJob(MakeJob(1), "", &created);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(again.status().message(), MakeJob(1).name()));
}
TEST_F(JobTablesTest, RequestIdReturnsTheFirstJob) {
  v1::Job first = MakeJob(1);
  Create(first, "req-1");

  bool created = true;
  StatusOr<v1::Job> retry = jobs_->CreateJob(MakeJob(2), "req-1", &created);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(created);
  EXPECT_TRUE(SameMessage(*retry, first));
  EXPECT_EQ(jobs_->GetJob(MakeJob(2).name()).status().code(), StatusCode::kNotFound);

  // Another request id, and creates without one, each make a job.
  Create(MakeJob(3), "req-2");
  Create(MakeJob(4));
  Create(MakeJob(5));
  int pages = 0;
  EXPECT_EQ(ListAll(10, {}, &pages).size(), 4u);
}
TEST_F(JobTablesTest, ListJobsPagesNewestFirst) {
  for (int i = 1; i <= 7; ++i) Create(MakeJob(i));
  StatusOr<JobPage> first = jobs_->ListJobs(3, "", {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_FALSE(first->next_page_token.empty());
  // A job created while paging is newer than the cursor: it does not shift later pages.
  Create(MakeJob(8));

  std::vector<v1::Job> all = first->jobs;
  std::string token = first->next_page_token;
  std::vector<size_t> sizes = {first->jobs.size()};
  while (!token.empty()) {
    StatusOr<JobPage> page = jobs_->ListJobs(3, token, {});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    all.insert(all.end(), page->jobs.begin(), page->jobs.end());
    sizes.push_back(page->jobs.size());
    token = page->next_page_token;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  std::vector<std::string> expected;
  for (int i = 7; i >= 1; --i) expected.push_back(MakeJob(i).name());
  EXPECT_EQ(Names(all), expected);
}
TEST_F(JobTablesTest, ListJobsExactPagesEndWithEmptyToken) {
  for (int i = 1; i <= 6; ++i) Create(MakeJob(i));
  int pages = 0;
  std::vector<v1::Job> all = ListAll(3, {}, &pages);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(all.size(), 6u);
  OpenedTables other = OpenTables(dir_.path() + "/empty.db");
  ASSERT_TRUE(other.jobs);
  StatusOr<JobPage> empty = other.jobs->ListJobs(5, "", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->jobs.empty());
  EXPECT_TRUE(empty->next_page_token.empty());
}
TEST_F(JobTablesTest, ListJobsFiltersByState) {
  const v1::Job::State states[] = {v1::Job::QUEUED, v1::Job::RUNNING, v1::Job::SUCCEEDED};
  for (int i = 1; i <= 9; ++i) Create(MakeJob(i, states[i % 3]));
  int pages = 0;
  std::vector<v1::Job> running = ListAll(2, {v1::Job::RUNNING}, &pages);
  EXPECT_EQ(Names(running), (std::vector<std::string>{MakeJob(7).name(), MakeJob(4).name(), MakeJob(1).name()}));
  EXPECT_EQ(pages, 2);
  std::vector<v1::Job> active = ListAll(4, {v1::Job::QUEUED, v1::Job::RUNNING}, &pages);
  EXPECT_EQ(active.size(), 6u);
  for (const v1::Job& job : active) EXPECT_NE(job.state(), v1::Job::SUCCEEDED);
  EXPECT_EQ(ListAll(4, {}, &pages).size(), 9u);
  EXPECT_TRUE(ListAll(4, {v1::Job::FAILED}, &pages).empty());
}
TEST_F(JobTablesTest, JobsInStatesOldestFirst) {
  const v1::Job::State states[] = {v1::Job::QUEUED, v1::Job::RUNNING, v1::Job::SUCCEEDED};
  for (int i = 1; i <= 6; ++i) Create(MakeJob(i, states[i % 3]));
  StatusOr<std::vector<v1::Job>> jobs = jobs_->JobsInStates({v1::Job::QUEUED, v1::Job::SUCCEEDED});
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(Names(*jobs),
            (std::vector<std::string>{MakeJob(2).name(), MakeJob(3).name(), MakeJob(5).name(), MakeJob(6).name()}));
  ASSERT_TRUE(jobs_->JobsInStates({}).ok());
  EXPECT_TRUE(jobs_->JobsInStates({})->empty());
}
TEST_F(JobTablesTest, ListJobsRejectsBadArguments) {
  for (int i = 1; i <= 3; ++i) Create(MakeJob(i));
  for (const char* token : {"garbage", "zz", "0000000000000000", "00000000000000001", "-000000000000001",
                            "ffffffffffffffff", "000000000000000g"}) {
    StatusOr<JobPage> page = jobs_->ListJobs(2, token, {});
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << token;
  }
  EXPECT_EQ(jobs_->ListJobs(0, "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_->ListJobs(1001, "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(jobs_->ListJobs(1000, "", {}).ok());
}
TEST_F(JobTablesTest, EventsAreNumberedFromOne) {
  v1::Job job = Create(MakeJob(1));
  Create(MakeJob(2));
  for (int64_t i = 1; i <= 5; ++i) {
    StatusOr<v1::JobEvent> event = jobs_->AppendEvent(job.name(), ProgressEvent(i * 10));
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->sequence(), i);
    EXPECT_EQ(event->progress().step(), i * 10);
  }
  EXPECT_EQ(jobs_->AppendEvent(MakeJob(2).name(), ProgressEvent(1))->sequence(), 1);
  EXPECT_EQ(*jobs_->LastSequence(job.name()), 5);
  EXPECT_EQ(*jobs_->LastSequence(MakeJob(2).name()), 1);

  StatusOr<std::vector<v1::JobEvent>> all = jobs_->EventsAfter(job.name(), 0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*all)[i].sequence(), i + 1);
    EXPECT_EQ((*all)[i].progress().step(), (i + 1) * 10);
  }
  StatusOr<std::vector<v1::JobEvent>> tail = jobs_->EventsAfter(job.name(), 3, 100);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].sequence(), 4);
  StatusOr<std::vector<v1::JobEvent>> head = jobs_->EventsAfter(job.name(), 0, 2);
  ASSERT_EQ(head->size(), 2u);
  EXPECT_EQ((*head)[1].sequence(), 2);
  EXPECT_TRUE(jobs_->EventsAfter(job.name(), 5, 100)->empty());
}
TEST_F(JobTablesTest, EventsOfUnknownJobs) {
  EXPECT_EQ(jobs_->AppendEvent("jobs/nope", ProgressEvent(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->EventsAfter("jobs/nope", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->LastSequence("jobs/nope").status().code(), StatusCode::kNotFound);
  Create(MakeJob(1));
  EXPECT_EQ(*jobs_->LastSequence(MakeJob(1).name()), 0);
  EXPECT_EQ(jobs_->EventsAfter(MakeJob(1).name(), 0, 0).status().code(), StatusCode::kInvalidArgument);
}
TEST_F(JobTablesTest, UpdateJobWithEventWritesBoth) {
  v1::Job job = Create(MakeJob(1));
  ASSERT_TRUE(jobs_->AppendEvent(job.name(), StateEvent(v1::Job::QUEUED)).ok());
  job.set_state(v1::Job::RUNNING);
  StatusOr<v1::JobEvent> event = jobs_->UpdateJobWithEvent(job, StateEvent(v1::Job::RUNNING));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->sequence(), 2);
  EXPECT_EQ(jobs_->GetJob(job.name())->state(), v1::Job::RUNNING);
  StatusOr<std::vector<v1::JobEvent>> events = jobs_->EventsAfter(job.name(), 1, 10);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_TRUE(SameMessage((*events)[0], *event));

  v1::Job unknown = MakeJob(2);
  EXPECT_EQ(jobs_->UpdateJobWithEvent(unknown, StateEvent(v1::Job::RUNNING)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->GetJob(unknown.name()).status().code(), StatusCode::kNotFound);
}
// When the event cannot be written, the job update is rolled back with it.
TEST_F(JobTablesTest, UpdateJobWithEventIsAtomic) {
  v1::Job job = Create(MakeJob(1));
  // A second connection installs a trigger that makes every event insert fail.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  const char* trigger = "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected'); END";
  ASSERT_EQ(sqlite3_exec(db.get(), trigger, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get());

  v1::Job running = job;
  running.set_state(v1::Job::RUNNING);
  StatusOr<v1::JobEvent> event = jobs_->UpdateJobWithEvent(running, StateEvent(v1::Job::RUNNING));
  EXPECT_EQ(event.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(event.status().message(), "injected"));
  EXPECT_EQ(jobs_->GetJob(job.name())->state(), v1::Job::QUEUED);
  EXPECT_EQ(*jobs_->LastSequence(job.name()), 0);

  ASSERT_EQ(sqlite3_exec(db.get(), "DROP TRIGGER no_events", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(jobs_->UpdateJobWithEvent(running, StateEvent(v1::Job::RUNNING)).ok());
  EXPECT_EQ(jobs_->GetJob(job.name())->state(), v1::Job::RUNNING);
  EXPECT_EQ(*jobs_->LastSequence(job.name()), 1);
}
TEST_F(JobTablesTest, LogsAreNumberedAndPaged) {
  v1::Job job = Create(MakeJob(1));
  ASSERT_TRUE(jobs_->AppendLogs(job.name(), {"one", "two", "three"}).ok());
  ASSERT_TRUE(jobs_->AppendLogs(job.name(), {"four", "", "six"}).ok());
  ASSERT_TRUE(jobs_->AppendLogs(job.name(), {}).ok());

  int64_t last = -1;
  StatusOr<std::vector<std::string>> lines = jobs_->ReadLogs(job.name(), 0, 2, &last);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(*lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(last, 2);
  lines = jobs_->ReadLogs(job.name(), last, 10, &last);
  EXPECT_EQ(*lines, (std::vector<std::string>{"three", "four", "", "six"}));
  EXPECT_EQ(last, 6);
  lines = jobs_->ReadLogs(job.name(), last, 10, &last);
  EXPECT_TRUE(lines->empty());
  EXPECT_EQ(last, 6);

  EXPECT_EQ(jobs_->AppendLogs("jobs/nope", {"x"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->ReadLogs("jobs/nope", 0, 10, &last).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs_->ReadLogs(job.name(), 0, 0, &last).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox::daemon
