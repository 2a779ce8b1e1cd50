// The job store's schema version and its migrations. The first tables (jobs, events,
// logs, datasets) are made by their tables' CreateSchema, as before versions existed
// (version 0, SQLite's PRAGMA user_version); each later version is one migration that
// runs once, in a transaction with the version bump, so a store of any older daemon opens
// and keeps its jobs and datasets.
//
//   1: jobs.tenant and datasets.tenant (who owns each row; '' = the owner, for rows
//      stored before), the tenants table (token hashes, quotas) and the audit log.
//
// Thread-compatible: JobStore calls it once, at open.
#pragma once

#include "daemon/store/sqlite_db.h"
#include "engine/util/status.h"

namespace petabox::daemon {

// The version this daemon writes.
inline constexpr int kSchemaVersion = 1;

// Creates the version-0 tables when missing, then migrates: what opening a store does.
Status CreateOrMigrateSchema(sqlite::Db& db);

// Brings the database from its version to kSchemaVersion. FailedPrecondition when it was
// written by a newer petaboxd (a version above kSchemaVersion); Internal on SQLite errors.
Status MigrateSchema(sqlite::Db& db);

// The database's PRAGMA user_version.
StatusOr<int> SchemaVersion(sqlite::Db& db);

}  // namespace petabox::daemon
