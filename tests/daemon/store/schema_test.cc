// The store's schema versions: a store written before tenants existed (version 0) opens,
// keeps its jobs and datasets (as the owner's) and gains the tenants and audit tables; a
// store of a newer daemon is refused. Also the tenant and audit tables through JobStore.
#include "daemon/store/schema.h"

#include <gtest/gtest.h>

#include "daemon/store/dataset_table.h"
#include "daemon/store/job_store.h"
#include "daemon/store/job_tables.h"
#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::MakeDataset;
using testutil::MakeJob;

// Writes a version-0 store as the daemon before tenants did: its tables and one row each,
// inserted with that daemon's statements.
void WriteVersion0Store(const std::string& path) {
  StatusOr<sqlite::Db> db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(JobTables::CreateSchema(*db).ok());
  ASSERT_TRUE(DatasetTable::CreateSchema(*db).ok());
  auto job = sqlite::Statement::Prepare(*db, "INSERT INTO jobs (name, state, request_id, job) VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(job.ok());
  const v1::Job old = MakeJob(1);
  job->Bind(1, old.name()).Bind(2, int64_t{old.state()}).Bind(3, "old-request").BindBlob(4, old.SerializeAsString());
  ASSERT_TRUE(job->Run().ok());
  auto dataset = sqlite::Statement::Prepare(*db, "INSERT INTO datasets (name, dataset) VALUES (?1, ?2)");
  ASSERT_TRUE(dataset.ok());
  const v1::Dataset d = MakeDataset("old", 10);
  dataset->Bind(1, d.name()).BindBlob(2, d.SerializeAsString());
  ASSERT_TRUE(dataset->Run().ok());
  ASSERT_EQ(SchemaVersion(*db).value(), 0);
}

TEST(SchemaTest, Version0StoreMigratesAndKeepsItsRowsAsTheOwners) {
  testutil::TempDir dir;
  const std::string path = dir.path() + "/petabox.db";
  WriteVersion0Store(path);
  for (int open = 0; open < 2; ++open) {  // the second open finds it migrated already
    auto store = JobStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto job = (*store)->GetJob(MakeJob(1).name());
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->tenant(), "");  // the owner's (TenantOfJob)
    EXPECT_TRUE((*store)->JobByRequestId("old-request").ok());
    EXPECT_EQ((*store)->ListJobs(10, "", {})->jobs.size(), 1u);
    EXPECT_EQ((*store)->ListJobs(10, "", {}, "alice")->jobs.size(), 0u);
    EXPECT_EQ((*store)->ListDatasets()->size(), 1u);
    EXPECT_EQ((*store)->ListDatasets("alice")->size(), 0u);
    v1::Tenant alice;
    alice.set_name("alice-" + std::to_string(open));
    EXPECT_TRUE((*store)->AddTenant(alice, "hash-" + std::to_string(open)).ok());
  }
  StatusOr<sqlite::Db> db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(SchemaVersion(*db).value(), kSchemaVersion);
}

TEST(SchemaTest, StoreOfANewerDaemonIsRefused) {
  testutil::TempDir dir;
  const std::string path = dir.path() + "/petabox.db";
  {
    StatusOr<sqlite::Db> db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = JobStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer petaboxd"), std::string::npos) << store.status().message();
}

TEST(SchemaTest, TenantsAreFoundByNameAndTokenHashAndSurviveReopening) {
  testutil::TempDir dir;
  const std::string path = dir.path() + "/petabox.db";
  {
    auto store = JobStore::Open(path).value();
    v1::Tenant alice;
    alice.set_name("alice");
    alice.mutable_quota()->set_max_queued_jobs(2);
    ASSERT_TRUE(store->AddTenant(alice, "aaaa").ok());
    EXPECT_EQ(store->AddTenant(alice, "bbbb").code(), StatusCode::kAlreadyExists);
    v1::Tenant other;
    other.set_name("other");
    EXPECT_EQ(store->AddTenant(other, "aaaa").code(), StatusCode::kAlreadyExists);  // one hash, one tenant
    alice.set_revoked(true);
    ASSERT_TRUE(store->UpdateTenant(alice).ok());
  }
  auto store = JobStore::Open(path).value();
  auto by_hash = store->TenantByTokenHash("aaaa");
  ASSERT_TRUE(by_hash.ok());
  EXPECT_EQ(by_hash->name(), "alice");
  EXPECT_TRUE(by_hash->revoked());
  EXPECT_EQ(by_hash->quota().max_queued_jobs(), 2);
  EXPECT_EQ(store->TenantByTokenHash("cccc").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetTenant("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->ListTenants()->size(), 1u);
}

TEST(SchemaTest, AuditRowsAreNumberedAndListedNewestFirst) {
  testutil::TempDir dir;
  auto store = JobStore::Open(dir.path() + "/petabox.db").value();
  for (int i = 1; i <= 5; ++i) {
    v1::AuditRecord r;
    r.set_principal(i % 2 ? "owner" : "alice");
    r.set_method("CreateJob");
    r.set_target("jobs/j-" + std::to_string(i));
    r.set_code(i == 3 ? "RESOURCE_EXHAUSTED" : "OK");
    auto stored = store->AppendAudit(r);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(stored->sequence(), i);
  }
  auto newest = store->ListAudit(2, 0);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].sequence(), 5);
  EXPECT_EQ((*newest)[0].target(), "jobs/j-5");
  EXPECT_EQ((*newest)[1].sequence(), 4);
  auto before = store->ListAudit(10, 4);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 3u);
  EXPECT_EQ((*before)[0].sequence(), 3);
  EXPECT_EQ((*before)[0].code(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ((*before)[2].principal(), "owner");
  EXPECT_EQ(store->ListAudit(0, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox::daemon
