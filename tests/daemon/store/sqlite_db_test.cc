// sqlite::Db, Statement and Transaction: opening, binding and stepping, errors with
// SQLite's message, constraint violations, and rollback of an uncommitted transaction.
#include "daemon/store/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "petabox/v1/job.pb.h"
#include "tests/daemon/store/test_util.h"

namespace petabox::daemon::sqlite {
namespace {

using testutil::Contains;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    StatusOr<Db> db = Db::Open(dir_.path() + "/test.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::make_unique<Db>(std::move(db).value());
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER, b BLOB)").ok());
  }

  // The number of rows in t.
  int64_t Count() {
    StatusOr<Statement> stmt = Statement::Prepare(*db_, "SELECT COUNT(*) FROM t");
    EXPECT_TRUE(stmt.ok());
    if (!stmt.ok()) return -1;
    StatusOr<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row);
    return stmt->Int(0);
  }

  Status Insert(const std::string& key, int64_t value) {
    PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "INSERT INTO t (k, v) VALUES (?1, ?2)"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  }

  testutil::TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(SqliteDbTest, BindStepAndReadColumns) {
  ASSERT_TRUE(Insert("a", 7).ok());
  StatusOr<Statement> update = Statement::Prepare(*db_, "UPDATE t SET b = ?2 WHERE k = ?1");
  ASSERT_TRUE(update.ok());
  update->Bind(1, "a").BindBlob(2, std::string("x\0y", 3));
  ASSERT_TRUE(update->Run().ok());
  EXPECT_EQ(db_->Changes(), 1);

  StatusOr<Statement> select = Statement::Prepare(*db_, "SELECT v, b, k FROM t WHERE k = ?1");
  ASSERT_TRUE(select.ok());
  select->Bind(1, "a");
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->Int(0), 7);
  EXPECT_EQ(select->Bytes(1), std::string("x\0y", 3));
  EXPECT_EQ(select->Bytes(2), "a");
  EXPECT_FALSE(*select->Step());
  select->Reset();
  select->BindNull(1);
  EXPECT_FALSE(*select->Step());
}

TEST_F(SqliteDbTest, ErrorsCarrySqlitesMessage) {
  StatusOr<Statement> bad = Statement::Prepare(*db_, "SELECT nope FROM t");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(bad.status().message(), "job store: prepare"));
  EXPECT_TRUE(Contains(bad.status().message(), "no such column"));
  Status exec = db_->Exec("CREATE TABLE t (x)");
  EXPECT_EQ(exec.code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(exec.message(), "already exists"));
}

// A bind to a parameter that does not exist is reported by the next Step, not lost.
TEST_F(SqliteDbTest, FailedBindFailsTheStep) {
  StatusOr<Statement> stmt = Statement::Prepare(*db_, "INSERT INTO t (k, v) VALUES (?1, ?2)");
  ASSERT_TRUE(stmt.ok());
  stmt->Bind(1, "a").Bind(2, int64_t{1}).Bind(3, int64_t{2});
  Status run = stmt->Run();
  EXPECT_EQ(run.code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(run.message(), "bind"));
  EXPECT_EQ(Count(), 0);
}

TEST_F(SqliteDbTest, UniqueViolationIsRecognized) {
  ASSERT_TRUE(Insert("a", 1).ok());
  StatusOr<Statement> again = Statement::Prepare(*db_, "INSERT INTO t (k, v) VALUES ('a', 2)");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->Run().ok());
  EXPECT_TRUE(IsUniqueViolation(again->ExtendedErrorCode()));
  EXPECT_FALSE(IsUniqueViolation(SQLITE_CONSTRAINT_NOTNULL));
}

TEST_F(SqliteDbTest, TransactionCommitsOrRollsBack) {
  {
    Transaction txn(*db_);
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(Insert("a", 1).ok());
    ASSERT_TRUE(Insert("b", 2).ok());
    // Destroyed uncommitted, as on an early error return.
  }
  EXPECT_EQ(Count(), 0);
  {
    Transaction txn(*db_);
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(Insert("a", 1).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(Count(), 1);
  // A second BEGIN inside an open transaction fails with SQLite's message.
  Transaction outer(*db_);
  ASSERT_TRUE(outer.Begin().ok());
  Transaction inner(*db_);
  Status nested = inner.Begin();
  EXPECT_EQ(nested.code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(nested.message(), "within a transaction"));
}

TEST_F(SqliteDbTest, RowsParseAsMessages) {
  v1::Job job;
  job.set_name("jobs/a");
  StatusOr<Statement> insert = Statement::Prepare(*db_, "INSERT INTO t (k, b) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok());
  insert->Bind(1, "a").BindBlob(2, job.SerializeAsString());
  ASSERT_TRUE(insert->Run().ok());
  StatusOr<Statement> select = Statement::Prepare(*db_, "SELECT b FROM t ORDER BY k");
  ASSERT_TRUE(select.ok());
  StatusOr<std::vector<v1::Job>> jobs = ReadMessages<v1::Job>(*select, "job");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].name(), "jobs/a");
  StatusOr<v1::Job> corrupt = ParseRow<v1::Job>("\xff\xff", "job");
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(corrupt.status().message(), "corrupt job row"));
}

TEST(SqliteDbOpen, WalModeAndUnopenablePath) {
  testutil::TempDir dir;
  ASSERT_TRUE(Db::Open(dir.path() + "/a.db").ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/a.db").c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> other(raw, sqlite3_close);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(other.get(), "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), "wal");
  sqlite3_finalize(stmt);

  StatusOr<Db> bad = Db::Open("/nonexistent-dir/a.db");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(bad.status().message(), "cannot open /nonexistent-dir/a.db"));
}

}  // namespace
}  // namespace petabox::daemon::sqlite
