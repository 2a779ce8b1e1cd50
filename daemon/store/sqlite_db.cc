#include "daemon/store/sqlite_db.h"

#include <sqlite3.h>

namespace petabox::daemon::sqlite {
namespace {

// How long a call waits for another connection's lock (e.g. the sqlite3 shell) before
// failing with "database is locked".
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

void Db::Closer::operator()(sqlite3* db) const { sqlite3_close(db); }

StatusOr<Db> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // sqlite3_open_v2 may return a handle even on failure; it must be closed
  if (rc != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return Internal("job store: cannot open " + path + ": " + message);
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // WAL lets readers (e.g. the sqlite3 shell) work beside the daemon; FULL syncs the WAL on
  // every commit, so an acknowledged write survives power loss, not just a crash.
  PB_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
  return db;
}

Status Db::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(handle(), sql, nullptr, nullptr, &error) == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errmsg(handle());
  sqlite3_free(error);
  return Internal("job store: " + message);
}

int Db::Changes() const { return sqlite3_changes(handle()); }

Status Db::Error(std::string_view what) const {
  return Internal("job store: " + std::string(what) + ": " + sqlite3_errmsg(handle()));
}

void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

StatusOr<Statement> Statement::Prepare(Db& db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return db.Error("prepare");
  }
  return Statement(db, stmt);
}

Statement& Statement::Bind(int i, int64_t value) { return Check(sqlite3_bind_int64(stmt_.get(), i, value)); }

Statement& Statement::Bind(int i, std::string_view text) {
  return Check(sqlite3_bind_text(stmt_.get(), i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
}

Statement& Statement::BindBlob(int i, std::string_view blob) {
  return Check(sqlite3_bind_blob(stmt_.get(), i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT));
}

Statement& Statement::BindNull(int i) { return Check(sqlite3_bind_null(stmt_.get(), i)); }

StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return db_->Error("bind");
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("step");
}

void Statement::Reset() { sqlite3_reset(stmt_.get()); }

int Statement::ExtendedErrorCode() const { return sqlite3_extended_errcode(db_->handle()); }

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }

std::string Statement::Bytes(int col) const {
  const void* data = sqlite3_column_blob(stmt_.get(), col);
  int size = sqlite3_column_bytes(stmt_.get(), col);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

Statement& Statement::Check(int rc) {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Begin() {
  PB_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  PB_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

bool IsUniqueViolation(int extended_rc) {
  return extended_rc == SQLITE_CONSTRAINT_UNIQUE || extended_rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace petabox::daemon::sqlite
