#include "daemon/store/tenant_table.h"

namespace petabox::daemon {
namespace {

using sqlite::Statement;

StatusOr<v1::Tenant> SelectTenant(sqlite::Db& db, const char* column, const std::string& key, const std::string& what) {
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(db, std::string("SELECT tenant FROM tenants WHERE ") + column + " = ?1"));
  stmt.Bind(1, key);
  PB_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound(what + " not found");
  return sqlite::ParseRow<v1::Tenant>(stmt.Bytes(0), "tenant");
}

}  // namespace

Status TenantTable::AddTenant(const v1::Tenant& tenant, const std::string& token_sha256) {
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(*db_, "INSERT INTO tenants (name, token_sha256, tenant) VALUES (?1, ?2, ?3)"));
  stmt.Bind(1, tenant.name()).Bind(2, token_sha256).BindBlob(3, tenant.SerializeAsString());
  Status inserted = stmt.Run();
  if (!inserted.ok() && sqlite::IsUniqueViolation(stmt.ExtendedErrorCode())) {
    return AlreadyExists("tenant '" + tenant.name() + "' already exists");
  }
  return inserted;
}

StatusOr<v1::Tenant> TenantTable::GetTenant(const std::string& name) const {
  return SelectTenant(*db_, "name", name, "tenant '" + name + "'");
}

StatusOr<v1::Tenant> TenantTable::TenantByTokenHash(const std::string& token_sha256) const {
  return SelectTenant(*db_, "token_sha256", token_sha256, "tenant token");
}

StatusOr<std::vector<v1::Tenant>> TenantTable::ListTenants() const {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "SELECT tenant FROM tenants ORDER BY name"));
  return sqlite::ReadMessages<v1::Tenant>(stmt, "tenant");
}

Status TenantTable::UpdateTenant(const v1::Tenant& tenant) {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "UPDATE tenants SET tenant = ?2 WHERE name = ?1"));
  stmt.Bind(1, tenant.name()).BindBlob(2, tenant.SerializeAsString());
  PB_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return NotFound("tenant '" + tenant.name() + "' not found");
  return Status::Ok();
}

}  // namespace petabox::daemon
