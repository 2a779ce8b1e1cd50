// A thin RAII layer over SQLite for the store's tables: one connection (Db), its prepared
// statements (Statement) and transactions (Transaction). Rows that hold a serialized
// protobuf message are read back with ParseRow / ReadMessages.
//
// Errors are Internal("job store: <what>: <SQLite's message>"), so every table reports I/O
// errors and corruption the same way.
//
// Thread-compatible: the caller serializes all use of one Db and of the statements and
// transactions made from it (JobStore holds one mutex over the connection). The connection
// is opened with SQLITE_OPEN_NOMUTEX, so SQLite itself does not lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace petabox::daemon::sqlite {

// One open database connection; closed when destroyed. Movable, not copyable.
class Db {
 public:
  // Opens (creating when missing) the database at `path` in WAL mode with synchronous=FULL
  // (a commit that returned survives power loss) and a busy timeout for other connections'
  // locks. Internal naming `path` and SQLite's reason when it cannot be opened.
  static StatusOr<Db> Open(const std::string& path);

  // Runs SQL without results (schema, pragmas, BEGIN/COMMIT); several statements may be
  // separated by ';'. Internal with SQLite's message on failure.
  Status Exec(const char* sql);
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  int Changes() const;
  // Internal("job store: <what>: <the connection's last error message>").
  Status Error(std::string_view what) const;
  sqlite3* handle() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  explicit Db(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
};

// One prepared statement; finalized when destroyed. Bind parameters (1-based), then Step()
// through the rows. A failed bind is remembered and reported by the next Step().
class Statement {
 public:
  // Internal with SQLite's message when `sql` does not compile.
  static StatusOr<Statement> Prepare(Db& db, std::string_view sql);

  Statement& Bind(int i, int64_t value);
  Statement& Bind(int i, std::string_view text);
  Statement& BindBlob(int i, std::string_view blob);
  Statement& BindNull(int i);

  // True when a row is ready, false when the statement is done. Not to be called again
  // after false without Reset(): SQLite would silently run the statement again.
  StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  Status Run() { return Step().status(); }
  // Readies the statement to be bound and run again.
  void Reset();
  // The SQLite extended result code of the last failed step (for constraint violations).
  int ExtendedErrorCode() const;

  int64_t Int(int col) const;
  // Column `col` as bytes (TEXT or BLOB); "" for NULL.
  std::string Bytes(int col) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  Statement(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement& Check(int rc);

  Db* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  int bind_rc_ = 0;  // SQLITE_OK
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an early error return).
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(&db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Internal when the write lock cannot be taken (after the busy timeout) or on I/O errors.
  Status Begin();
  // Internal when the commit fails; the destructor then rolls back.
  Status Commit();

 private:
  Db* db_;
  bool open_ = false;
};

// True for a UNIQUE or PRIMARY KEY constraint violation (a name or key already taken).
bool IsUniqueViolation(int extended_rc);

// `bytes` (a row's column) parsed as a Message; Internal("job store: corrupt <what> row").
template <typename Message>
StatusOr<Message> ParseRow(const std::string& bytes, const char* what) {
  Message message;
  if (!message.ParseFromString(bytes)) return Internal(std::string("job store: corrupt ") + what + " row");
  return message;
}

// Every row of `stmt`, its column 0 parsed as a Message.
template <typename Message>
StatusOr<std::vector<Message>> ReadMessages(Statement& stmt, const char* what) {
  std::vector<Message> messages;
  while (true) {
    PB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return messages;
    PB_ASSIGN_OR_RETURN(Message message, ParseRow<Message>(stmt.Bytes(0), what));
    messages.push_back(std::move(message));
  }
}

}  // namespace petabox::daemon::sqlite
