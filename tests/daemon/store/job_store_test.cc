// JobStore: jobs, idempotent creates, paging and filters, numbered events and log lines,
// datasets, atomicity of job+event updates, and durability across reopening the file.
#include "daemon/store/job_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::Contains;

v1::Job MakeJob(int i, v1::Job::State state = v1::Job::QUEUED) {
  char name[32];
  std::snprintf(name, sizeof(name), "jobs/j-%012x", i);
  v1::Job job;
  job.set_name(name);
  job.set_spec_yaml("model: mlp\nepochs: " + std::to_string(i) + "\n");
  job.set_display_name("job " + std::to_string(i));
  job.set_device_count(1);
  job.set_state(state);
  job.mutable_create_time()->set_seconds(1700000000 + i);
  return job;
}

v1::JobEvent StateEvent(v1::Job::State state, const std::string& reason = "") {
  v1::JobEvent event;
  event.mutable_time()->set_seconds(1700000000);
  event.mutable_state_change()->set_state(state);
  event.mutable_state_change()->set_reason(reason);
  return event;
}

v1::JobEvent ProgressEvent(int64_t step) {
  v1::JobEvent event;
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_loss(1.0 / static_cast<double>(step + 1));
  return event;
}

v1::Dataset MakeDataset(const std::string& id, int64_t bytes) {
  v1::Dataset dataset;
  dataset.set_name("datasets/" + id);
  v1::DatasetFile* file = dataset.add_files();
  file->set_path("train.bin");
  file->set_size_bytes(bytes);
  file->set_sha256(std::string(64, 'a'));
  dataset.set_total_bytes(bytes);
  return dataset;
}

// Protobuf equality by bytes: enough for messages without maps.
template <typename Message>
::testing::AssertionResult SameMessage(const Message& a, const Message& b) {
  if (a.SerializeAsString() == b.SerializeAsString()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a.ShortDebugString() << " != " << b.ShortDebugString();
}

std::vector<std::string> Names(const std::vector<v1::Job>& jobs) {
  std::vector<std::string> names;
  for (const v1::Job& job : jobs) names.push_back(job.name());
  return names;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Reopen();
  }

  void Reopen() {
    store_.reset();
    StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(db_path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::string db_path() const { return dir_.path() + "/petabox.db"; }

  v1::Job Create(const v1::Job& job, const std::string& request_id = "") {
    bool created = false;
    StatusOr<v1::Job> stored = store_->CreateJob(job, request_id, &created);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_TRUE(created);
    return stored.ok() ? *stored : v1::Job();
  }

  // Every page of ListJobs with `page_size` and `states`, concatenated.
  std::vector<v1::Job> ListAll(int page_size, const std::vector<v1::Job::State>& states, int* pages) {
    std::vector<v1::Job> all;
    std::string token;
    *pages = 0;
    do {
      StatusOr<JobPage> page = store_->ListJobs(page_size, token, states);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || ++*pages > 100) break;
      EXPECT_LE(static_cast<int>(page->jobs.size()), page_size);
      all.insert(all.end(), page->jobs.begin(), page->jobs.end());
      token = page->next_page_token;
    } while (!token.empty());
    return all;
  }

  testutil::TempDir dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, CreateGetUpdate) {
  v1::Job job = MakeJob(1);
  EXPECT_TRUE(SameMessage(Create(job), job));

  StatusOr<v1::Job> got = store_->GetJob(job.name());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(SameMessage(*got, job));

  job.set_state(v1::Job::RUNNING);
  job.add_devices("CPU:0");
  ASSERT_TRUE(store_->UpdateJob(job).ok());
  got = store_->GetJob(job.name());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(SameMessage(*got, job));
}

TEST_F(JobStoreTest, UnknownAndDuplicateNames) {
  EXPECT_EQ(store_->GetJob("jobs/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateJob(MakeJob(9)).code(), StatusCode::kNotFound);
  Create(MakeJob(1));
  bool created = true;
  StatusOr<v1::Job> again = store_->CreateJob(MakeJob(1), "", &created);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(again.status().message(), MakeJob(1).name()));
}

TEST_F(JobStoreTest, RequestIdReturnsTheFirstJob) {
  v1::Job first = MakeJob(1);
  Create(first, "req-1");

  bool created = true;
  StatusOr<v1::Job> retry = store_->CreateJob(MakeJob(2), "req-1", &created);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(created);
  EXPECT_TRUE(SameMessage(*retry, first));
  EXPECT_EQ(store_->GetJob(MakeJob(2).name()).status().code(), StatusCode::kNotFound);

  // Another request id, and creates without one, each make a job.
  Create(MakeJob(3), "req-2");
  Create(MakeJob(4));
  Create(MakeJob(5));
  int pages = 0;
  EXPECT_EQ(ListAll(10, {}, &pages).size(), 4u);
}

TEST_F(JobStoreTest, ListJobsPagesNewestFirst) {
  for (int i = 1; i <= 7; ++i) Create(MakeJob(i));
  StatusOr<JobPage> first = store_->ListJobs(3, "", {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_FALSE(first->next_page_token.empty());
  // A job created while paging is newer than the cursor: it does not shift later pages.
  Create(MakeJob(8));

  std::vector<v1::Job> all = first->jobs;
  std::string token = first->next_page_token;
  std::vector<size_t> sizes = {first->jobs.size()};
  while (!token.empty()) {
    StatusOr<JobPage> page = store_->ListJobs(3, token, {});
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

TEST_F(JobStoreTest, ListJobsExactPagesEndWithEmptyToken) {
  for (int i = 1; i <= 6; ++i) Create(MakeJob(i));
  int pages = 0;
  std::vector<v1::Job> all = ListAll(3, {}, &pages);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(all.size(), 6u);
  StatusOr<JobPage> empty = JobStore::Open(dir_.path() + "/empty.db").value()->ListJobs(5, "", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->jobs.empty());
  EXPECT_TRUE(empty->next_page_token.empty());
}

TEST_F(JobStoreTest, ListJobsFiltersByState) {
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

TEST_F(JobStoreTest, JobsInStatesOldestFirst) {
  const v1::Job::State states[] = {v1::Job::QUEUED, v1::Job::RUNNING, v1::Job::SUCCEEDED};
  for (int i = 1; i <= 6; ++i) Create(MakeJob(i, states[i % 3]));
  StatusOr<std::vector<v1::Job>> jobs = store_->JobsInStates({v1::Job::QUEUED, v1::Job::SUCCEEDED});
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(Names(*jobs),
            (std::vector<std::string>{MakeJob(2).name(), MakeJob(3).name(), MakeJob(5).name(), MakeJob(6).name()}));
  ASSERT_TRUE(store_->JobsInStates({}).ok());
  EXPECT_TRUE(store_->JobsInStates({})->empty());
}

TEST_F(JobStoreTest, ListJobsRejectsBadArguments) {
  for (int i = 1; i <= 3; ++i) Create(MakeJob(i));
  for (const char* token : {"garbage", "zz", "0000000000000000", "00000000000000001", "-000000000000001",
                            "ffffffffffffffff", "000000000000000g"}) {
    StatusOr<JobPage> page = store_->ListJobs(2, token, {});
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << token;
  }
  EXPECT_EQ(store_->ListJobs(0, "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListJobs(1001, "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListJobs(1000, "", {}).ok());
}

TEST_F(JobStoreTest, EventsAreNumberedFromOne) {
  v1::Job job = Create(MakeJob(1));
  Create(MakeJob(2));
  for (int64_t i = 1; i <= 5; ++i) {
    StatusOr<v1::JobEvent> event = store_->AppendEvent(job.name(), ProgressEvent(i * 10));
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->sequence(), i);
    EXPECT_EQ(event->progress().step(), i * 10);
  }
  EXPECT_EQ(store_->AppendEvent(MakeJob(2).name(), ProgressEvent(1))->sequence(), 1);
  EXPECT_EQ(*store_->LastSequence(job.name()), 5);
  EXPECT_EQ(*store_->LastSequence(MakeJob(2).name()), 1);

  StatusOr<std::vector<v1::JobEvent>> all = store_->EventsAfter(job.name(), 0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*all)[i].sequence(), i + 1);
    EXPECT_EQ((*all)[i].progress().step(), (i + 1) * 10);
  }
  StatusOr<std::vector<v1::JobEvent>> tail = store_->EventsAfter(job.name(), 3, 100);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].sequence(), 4);
  StatusOr<std::vector<v1::JobEvent>> head = store_->EventsAfter(job.name(), 0, 2);
  ASSERT_EQ(head->size(), 2u);
  EXPECT_EQ((*head)[1].sequence(), 2);
  EXPECT_TRUE(store_->EventsAfter(job.name(), 5, 100)->empty());
}

TEST_F(JobStoreTest, EventsOfUnknownJobs) {
  EXPECT_EQ(store_->AppendEvent("jobs/nope", ProgressEvent(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EventsAfter("jobs/nope", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LastSequence("jobs/nope").status().code(), StatusCode::kNotFound);
  Create(MakeJob(1));
  EXPECT_EQ(*store_->LastSequence(MakeJob(1).name()), 0);
  EXPECT_EQ(store_->EventsAfter(MakeJob(1).name(), 0, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JobStoreTest, UpdateJobWithEventWritesBoth) {
  v1::Job job = Create(MakeJob(1));
  ASSERT_TRUE(store_->AppendEvent(job.name(), StateEvent(v1::Job::QUEUED)).ok());
  job.set_state(v1::Job::RUNNING);
  StatusOr<v1::JobEvent> event = store_->UpdateJobWithEvent(job, StateEvent(v1::Job::RUNNING));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->sequence(), 2);
  EXPECT_EQ(store_->GetJob(job.name())->state(), v1::Job::RUNNING);
  StatusOr<std::vector<v1::JobEvent>> events = store_->EventsAfter(job.name(), 1, 10);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_TRUE(SameMessage((*events)[0], *event));

  v1::Job unknown = MakeJob(2);
  EXPECT_EQ(store_->UpdateJobWithEvent(unknown, StateEvent(v1::Job::RUNNING)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetJob(unknown.name()).status().code(), StatusCode::kNotFound);
}

// When the event cannot be written, the job update is rolled back with it.
TEST_F(JobStoreTest, UpdateJobWithEventIsAtomic) {
  v1::Job job = Create(MakeJob(1));
  // A second connection installs a trigger that makes every event insert fail.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  const char* trigger = "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected'); END";
  ASSERT_EQ(sqlite3_exec(db.get(), trigger, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get());

  v1::Job running = job;
  running.set_state(v1::Job::RUNNING);
  StatusOr<v1::JobEvent> event = store_->UpdateJobWithEvent(running, StateEvent(v1::Job::RUNNING));
  EXPECT_EQ(event.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(event.status().message(), "injected"));
  EXPECT_EQ(store_->GetJob(job.name())->state(), v1::Job::QUEUED);
  EXPECT_EQ(*store_->LastSequence(job.name()), 0);

  ASSERT_EQ(sqlite3_exec(db.get(), "DROP TRIGGER no_events", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(store_->UpdateJobWithEvent(running, StateEvent(v1::Job::RUNNING)).ok());
  EXPECT_EQ(store_->GetJob(job.name())->state(), v1::Job::RUNNING);
  EXPECT_EQ(*store_->LastSequence(job.name()), 1);
}

TEST_F(JobStoreTest, ConcurrentAppendsGetDistinctSequences) {
  v1::Job job = Create(MakeJob(1));
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(store_->AppendEvent(job.name(), ProgressEvent(i)).ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  StatusOr<std::vector<v1::JobEvent>> events = store_->EventsAfter(job.name(), 0, 1000);
  ASSERT_EQ(events->size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].sequence(), static_cast<int64_t>(i + 1));
}

TEST_F(JobStoreTest, LogsAreNumberedAndPaged) {
  v1::Job job = Create(MakeJob(1));
  ASSERT_TRUE(store_->AppendLogs(job.name(), {"one", "two", "three"}).ok());
  ASSERT_TRUE(store_->AppendLogs(job.name(), {"four", "", "six"}).ok());
  ASSERT_TRUE(store_->AppendLogs(job.name(), {}).ok());

  int64_t last = -1;
  StatusOr<std::vector<std::string>> lines = store_->ReadLogs(job.name(), 0, 2, &last);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(*lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(last, 2);
  lines = store_->ReadLogs(job.name(), last, 10, &last);
  EXPECT_EQ(*lines, (std::vector<std::string>{"three", "four", "", "six"}));
  EXPECT_EQ(last, 6);
  lines = store_->ReadLogs(job.name(), last, 10, &last);
  EXPECT_TRUE(lines->empty());
  EXPECT_EQ(last, 6);

  EXPECT_EQ(store_->AppendLogs("jobs/nope", {"x"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ReadLogs("jobs/nope", 0, 10, &last).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ReadLogs(job.name(), 0, 0, &last).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JobStoreTest, DatasetsAddGetListDelete) {
  ASSERT_TRUE(store_->AddDataset(MakeDataset("zeta", 10)).ok());
  ASSERT_TRUE(store_->AddDataset(MakeDataset("alpha", 20)).ok());
  Status again = store_->AddDataset(MakeDataset("zeta", 30));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(again.message(), "datasets/zeta"));

  StatusOr<v1::Dataset> got = store_->GetDataset("datasets/zeta");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(SameMessage(*got, MakeDataset("zeta", 10)));
  StatusOr<std::vector<v1::Dataset>> all = store_->ListDatasets();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name(), "datasets/alpha");
  EXPECT_EQ((*all)[1].name(), "datasets/zeta");

  ASSERT_TRUE(store_->DeleteDataset("datasets/zeta").ok());
  EXPECT_EQ(store_->DeleteDataset("datasets/zeta").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDataset("datasets/zeta").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListDatasets()->size(), 1u);
}

TEST_F(JobStoreTest, ReopenedStoreHasEverything) {
  v1::Job job = Create(MakeJob(1), "req-1");
  for (int i = 2; i <= 4; ++i) Create(MakeJob(i));
  job.set_state(v1::Job::RUNNING);
  ASSERT_TRUE(store_->UpdateJobWithEvent(job, StateEvent(v1::Job::RUNNING)).ok());
  ASSERT_TRUE(store_->AppendEvent(job.name(), ProgressEvent(7)).ok());
  ASSERT_TRUE(store_->AppendLogs(job.name(), {"a", "b"}).ok());
  ASSERT_TRUE(store_->AddDataset(MakeDataset("mnist", 5)).ok());

  Reopen();
  EXPECT_TRUE(SameMessage(*store_->GetJob(job.name()), job));
  int pages = 0;
  EXPECT_EQ(ListAll(2, {}, &pages).size(), 4u);
  EXPECT_EQ(*store_->LastSequence(job.name()), 2);
  EXPECT_EQ(store_->AppendEvent(job.name(), ProgressEvent(8))->sequence(), 3);
  int64_t last = 0;
  EXPECT_EQ(*store_->ReadLogs(job.name(), 0, 10, &last), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(store_->GetDataset("datasets/mnist").ok());
  bool created = true;
  StatusOr<v1::Job> retry = store_->CreateJob(MakeJob(9), "req-1", &created);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(retry->name(), job.name());
}

TEST_F(JobStoreTest, DatabaseIsInWalMode) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), "wal");
  sqlite3_finalize(stmt);
}

TEST(JobStoreOpen, UnopenablePathIsInternal) {
  StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open("/nonexistent-dir/petabox.db");
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(store.status().message(), "/nonexistent-dir/petabox.db"));
}

}  // namespace
}  // namespace petabox::daemon
