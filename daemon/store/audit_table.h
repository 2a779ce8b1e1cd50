// AuditTable: the audit log of mutating calls (petabox.v1.AuditRecord, numbered 1, 2, 3,
// ... in the order they were appended). Append-only: nothing in the daemon deletes rows.
//
// Thread-compatible: JobStore serializes all calls (and all use of the connection).
// Errors: Internal with SQLite's message for I/O or corruption.
#pragma once

#include <cstdint>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "engine/util/status.h"
#include "petabox/v1/admin.pb.h"

namespace petabox::daemon {

class AuditTable {
 public:
  // Works on `db` (not owned; it outlives this object), migrated to schema version >= 1.
  explicit AuditTable(sqlite::Db* db) : db_(db) {}

  // Stores `record` (its sequence is assigned here) and returns it numbered.
  StatusOr<v1::AuditRecord> Append(v1::AuditRecord record);
  // Newest first: at most `limit` (>= 1) records with sequence < before (0: no bound).
  StatusOr<std::vector<v1::AuditRecord>> List(int limit, int64_t before) const;

 private:
  sqlite::Db* const db_;
};

}  // namespace petabox::daemon
