// DatasetTable: the uploaded datasets recorded in the store's database (petabox.v1.Dataset
// by name, "datasets/{id}"); their files live beside the database (daemon/store/
// dataset_files.h).
//
// Thread-compatible: JobStore serializes all calls (and all use of the connection).
// Errors: Internal with SQLite's message for I/O or corruption, NotFound for unknown names,
// AlreadyExists for a name that is taken.
#pragma once

#include <string>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "engine/util/status.h"
#include "petabox/v1/dataset.pb.h"

namespace petabox::daemon {

class DatasetTable {
 public:
  // Creates the datasets table when missing.
  static Status CreateSchema(sqlite::Db& db);
  // Works on `db` (not owned; it outlives this object), whose schema exists.
  explicit DatasetTable(sqlite::Db* db) : db_(db) {}

  // AlreadyExists when the name is taken.
  Status AddDataset(const v1::Dataset& dataset);
  StatusOr<v1::Dataset> GetDataset(const std::string& name) const;
  // By name; `tenant` "" means all, else only those whose Dataset.tenant is `tenant`.
  StatusOr<std::vector<v1::Dataset>> ListDatasets(const std::string& tenant = "") const;
  Status DeleteDataset(const std::string& name);

 private:
  sqlite::Db* const db_;
};

}  // namespace petabox::daemon
