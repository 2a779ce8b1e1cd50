#include "daemon/store/audit_table.h"

#include <limits>

#include <sqlite3.h>

namespace petabox::daemon {

using sqlite::Statement;

// The sequence is the row id, known only after the insert, and the record carries it: one
// transaction inserts, then rewrites the row with its number.
StatusOr<v1::AuditRecord> AuditTable::Append(v1::AuditRecord record) {
  sqlite::Transaction txn(*db_);
  PB_RETURN_IF_ERROR(txn.Begin());
  PB_ASSIGN_OR_RETURN(Statement insert, Statement::Prepare(*db_, "INSERT INTO audit (record) VALUES (?1)"));
  insert.BindBlob(1, record.SerializeAsString());
  PB_RETURN_IF_ERROR(insert.Run());
  record.set_sequence(sqlite3_last_insert_rowid(db_->handle()));
  PB_ASSIGN_OR_RETURN(Statement update, Statement::Prepare(*db_, "UPDATE audit SET record = ?2 WHERE sequence = ?1"));
  update.Bind(1, record.sequence()).BindBlob(2, record.SerializeAsString());
  PB_RETURN_IF_ERROR(update.Run());
  PB_RETURN_IF_ERROR(txn.Commit());
  return record;
}

StatusOr<std::vector<v1::AuditRecord>> AuditTable::List(int limit, int64_t before) const {
  if (limit < 1) return InvalidArgument("audit limit must be at least 1");
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_,
                                                         "SELECT record FROM audit WHERE sequence < ?1 "
                                                         "ORDER BY sequence DESC LIMIT ?2"));
  stmt.Bind(1, before > 0 ? before : std::numeric_limits<int64_t>::max()).Bind(2, int64_t{limit});
  return sqlite::ReadMessages<v1::AuditRecord>(stmt, "audit");
}

}  // namespace petabox::daemon
