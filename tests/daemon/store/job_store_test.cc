// JobStore: every call reaches its table through the one connection, concurrent calls are
// serialized, and everything survives reopening the file. The tables' own behaviour is
// tested in job_tables_test.cc and dataset_table_test.cc, the connection in sqlite_db_test.cc.
#include "daemon/store/job_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <thread>
#include <vector>

#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::Contains;
using testutil::MakeDataset;
using testutil::MakeJob;
using testutil::ProgressEvent;
using testutil::SameMessage;
using testutil::StateEvent;

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

  std::vector<v1::Job> ListAll(int page_size, const std::vector<v1::Job::State>& states, int* pages) {
    return testutil::ListAll(*store_, page_size, states, pages);
  }

  testutil::TempDir dir_;
  std::unique_ptr<JobStore> store_;
};

// The calls that ReopenedStoreHasEverything does not make, each once through the store.
TEST_F(JobStoreTest, EveryCallReachesItsTable) {
  v1::Job job = Create(MakeJob(1));
  job.set_state(v1::Job::RUNNING);
  ASSERT_TRUE(store_->UpdateJob(job).ok());
  StatusOr<std::vector<v1::Job>> running = store_->JobsInStates({v1::Job::RUNNING});
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_EQ(running->size(), 1u);
  EXPECT_TRUE(SameMessage((*running)[0], job));
  ASSERT_TRUE(store_->AppendEvent(job.name(), ProgressEvent(3)).ok());
  StatusOr<std::vector<v1::JobEvent>> events = store_->EventsAfter(job.name(), 0, 10);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].progress().step(), 3);

  ASSERT_TRUE(store_->AddDataset(MakeDataset("mnist", 5)).ok());
  StatusOr<std::vector<v1::Dataset>> datasets = store_->ListDatasets();
  ASSERT_TRUE(datasets.ok()) << datasets.status().ToString();
  ASSERT_EQ(datasets->size(), 1u);
  ASSERT_TRUE(store_->DeleteDataset("datasets/mnist").ok());
  EXPECT_EQ(store_->GetDataset("datasets/mnist").status().code(), StatusCode::kNotFound);
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
