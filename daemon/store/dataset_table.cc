#include "daemon/store/dataset_table.h"

namespace petabox::daemon {
namespace {

using sqlite::Statement;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS datasets (
  name TEXT NOT NULL PRIMARY KEY,
  dataset BLOB NOT NULL) WITHOUT ROWID;
)sql";

}  // namespace

Status DatasetTable::CreateSchema(sqlite::Db& db) { return db.Exec(kSchema); }

Status DatasetTable::AddDataset(const v1::Dataset& dataset) {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "INSERT INTO datasets (name, dataset, tenant) VALUES (?1, ?2, ?3)"));
  stmt.Bind(1, dataset.name()).BindBlob(2, dataset.SerializeAsString()).Bind(3, dataset.tenant());
  Status inserted = stmt.Run();
  if (!inserted.ok() && sqlite::IsUniqueViolation(stmt.ExtendedErrorCode())) {
    return AlreadyExists("dataset \"" + dataset.name() + "\" already exists");
  }
  return inserted;
}

StatusOr<v1::Dataset> DatasetTable::GetDataset(const std::string& name) const {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "SELECT dataset FROM datasets WHERE name = ?1"));
  stmt.Bind(1, name);
  PB_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound("dataset \"" + name + "\" not found");
  return sqlite::ParseRow<v1::Dataset>(stmt.Bytes(0), "dataset");
}

StatusOr<std::vector<v1::Dataset>> DatasetTable::ListDatasets(const std::string& tenant) const {
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(*db_, tenant.empty() ? "SELECT dataset FROM datasets ORDER BY name"
                                                              : "SELECT dataset FROM datasets WHERE tenant = ?1 ORDER BY name"));
  if (!tenant.empty()) stmt.Bind(1, tenant);
  return sqlite::ReadMessages<v1::Dataset>(stmt, "dataset");
}

Status DatasetTable::DeleteDataset(const std::string& name) {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, "DELETE FROM datasets WHERE name = ?1"));
  stmt.Bind(1, name);
  PB_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return NotFound("dataset \"" + name + "\" not found");
  return Status::Ok();
}

}  // namespace petabox::daemon
