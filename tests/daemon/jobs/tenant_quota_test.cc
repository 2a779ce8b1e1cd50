// Tenant quotas: each check at its limit, with the message naming the quota and its value;
// the owner has none.
#include "daemon/jobs/tenant_quota.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::MakeDataset;
using testutil::MakeJob;

class TenantQuotaChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = JobStore::Open(dir_.path() + "/petabox.db").value();
    v1::Tenant alice;
    alice.set_name("alice");
    alice.mutable_quota()->set_max_queued_jobs(2);
    alice.mutable_quota()->set_max_storage_bytes(1000);
    ASSERT_TRUE(store_->AddTenant(alice, "hash").ok());
  }
  void AddJob(int i, const std::string& tenant, v1::Job::State state) {
    v1::Job job = MakeJob(i, state);
    job.set_tenant(tenant);
    bool created = false;
    ASSERT_TRUE(store_->CreateJob(job, "", &created).ok());
  }
  testutil::TempDir dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(TenantQuotaChecksTest, QueuedJobsAtTheLimit) {
  const v1::TenantQuota quota = QuotaOf(*store_, "alice").value();
  AddJob(1, "alice", v1::Job::QUEUED);
  AddJob(2, "alice", v1::Job::RUNNING);  // not queued: does not count
  AddJob(3, "bob", v1::Job::QUEUED);     // another tenant's: does not count
  EXPECT_TRUE(CheckQueued(*store_, "alice", quota).ok());
  AddJob(4, "alice", v1::Job::QUEUED);
  const Status s = CheckQueued(*store_, "alice", quota);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "tenant 'alice': queued jobs quota 2 reached");
}

TEST_F(TenantQuotaChecksTest, StorageCountsDatasetsAndCheckpointsOfTheTenantOnly) {
  v1::Dataset mine = MakeDataset("x", 300);
  mine.set_name("tenants/alice/datasets/x");
  mine.set_tenant("alice");
  ASSERT_TRUE(store_->AddDataset(mine).ok());
  v1::Dataset owners = MakeDataset("y", 5000);
  owners.set_tenant("owner");
  ASSERT_TRUE(store_->AddDataset(owners).ok());
  AddJob(1, "alice", v1::Job::SUCCEEDED);
  const std::string dir = dir_.path() + "/jobs/" + MakeJob(1).name().substr(5) + "/checkpoints";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/step-00000010.safetensors") << std::string(400, 'c');
  EXPECT_EQ(StorageBytes(*store_, dir_.path(), "alice").value(), 700);
  EXPECT_TRUE(CheckStorage(*store_, dir_.path(), "alice", 300).ok());  // exactly at the limit
  Status s = CheckStorage(*store_, dir_.path(), "alice", 301);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "tenant 'alice': storage bytes quota 1000 reached (700 bytes used, 301 more asked for)");
  std::ofstream(dir + "/step-00000020.safetensors") << std::string(300, 'c');
  s = CheckStorage(*store_, dir_.path(), "alice", 0);
  EXPECT_EQ(s.message(), "tenant 'alice': storage bytes quota 1000 reached (1000 bytes used)");
}

TEST_F(TenantQuotaChecksTest, TheOwnerHasNoQuotaAndUnknownTenantsAreNotFound) {
  const v1::TenantQuota owner = QuotaOf(*store_, "owner").value();
  EXPECT_EQ(owner.max_queued_jobs(), 0);
  EXPECT_TRUE(CheckStorage(*store_, dir_.path(), "owner", int64_t{1} << 50).ok());
  EXPECT_EQ(QuotaOf(*store_, "nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QuotaReached("bob", "devices", 1, "the job asks for 2").message(),
            "tenant 'bob': devices quota 1 reached (the job asks for 2)");
}

}  // namespace
}  // namespace petabox::daemon
