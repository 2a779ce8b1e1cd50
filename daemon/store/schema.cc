#include "daemon/store/schema.h"

#include <string>

#include "daemon/store/dataset_table.h"
#include "daemon/store/job_tables.h"

namespace petabox::daemon {
namespace {

// Migration i brings version i to i+1. Never edit one that has shipped: add the next.
constexpr const char* kMigrations[] = {
    R"sql(
ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_tenant ON jobs (tenant, seq);
ALTER TABLE datasets ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
CREATE TABLE tenants (
  name TEXT NOT NULL PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  tenant BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  record BLOB NOT NULL);
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

}  // namespace

Status CreateOrMigrateSchema(sqlite::Db& db) {
  PB_RETURN_IF_ERROR(JobTables::CreateSchema(db));
  PB_RETURN_IF_ERROR(DatasetTable::CreateSchema(db));
  return MigrateSchema(db);
}

StatusOr<int> SchemaVersion(sqlite::Db& db) {
  PB_ASSIGN_OR_RETURN(sqlite::Statement stmt, sqlite::Statement::Prepare(db, "PRAGMA user_version"));
  PB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.Int(0)) : 0;
}

Status MigrateSchema(sqlite::Db& db) {
  PB_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  if (version > kSchemaVersion) {
    return FailedPrecondition("job store: schema version " + std::to_string(version) +
                              " was written by a newer petaboxd (this one knows up to " +
                              std::to_string(kSchemaVersion) + "); run that version or a newer one");
  }
  for (; version < kSchemaVersion; ++version) {
    sqlite::Transaction txn(db);
    PB_RETURN_IF_ERROR(txn.Begin());
    PB_RETURN_IF_ERROR(db.Exec(kMigrations[version]));
    const std::string bump = "PRAGMA user_version = " + std::to_string(version + 1);
    PB_RETURN_IF_ERROR(db.Exec(bump.c_str()));
    PB_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

}  // namespace petabox::daemon
