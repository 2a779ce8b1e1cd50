// TenantTable: the box's tenants (petabox.v1.Tenant by name) with the SHA-256 of each
// one's token; the token itself is never stored.
//
// Thread-compatible: JobStore serializes all calls (and all use of the connection).
// Errors: Internal with SQLite's message for I/O or corruption, NotFound for unknown
// tenants or token hashes, AlreadyExists for a name (or token hash) that is taken.
#pragma once

#include <string>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "engine/util/status.h"
#include "petabox/v1/admin.pb.h"

namespace petabox::daemon {

class TenantTable {
 public:
  // Works on `db` (not owned; it outlives this object), migrated to schema version >= 1.
  explicit TenantTable(sqlite::Db* db) : db_(db) {}

  Status AddTenant(const v1::Tenant& tenant, const std::string& token_sha256);
  StatusOr<v1::Tenant> GetTenant(const std::string& name) const;
  StatusOr<v1::Tenant> TenantByTokenHash(const std::string& token_sha256) const;
  // By name.
  StatusOr<std::vector<v1::Tenant>> ListTenants() const;
  // Replaces the stored tenant of the same name (NotFound when there is none).
  Status UpdateTenant(const v1::Tenant& tenant);

 private:
  sqlite::Db* const db_;
};

}  // namespace petabox::daemon
