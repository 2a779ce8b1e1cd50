// The spec parsed once: petaboxd stores the typed spec with the job at CreateJob (defaults
// filled in) and runs the job from it; jobs a daemon before the typed spec stored (YAML
// only) get theirs at the next start, or fail there when it no longer validates; ended
// jobs keep what they had.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "daemon/store/job_store.h"
#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

using v1::Job;

TEST(TypedSpecTest, CreateJobStoresTheValidatedSpec) {
  DaemonHarness daemon;
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  ASSERT_TRUE(job.has_spec());
  EXPECT_EQ(job.spec().name(), "short-mlp");
  EXPECT_EQ(job.spec().max_steps(), 10);
  EXPECT_EQ(job.spec().optimizer().name(), "sgd");
  EXPECT_DOUBLE_EQ(job.spec().optimizer().beta2(), 0.999);  // a default, filled in
  EXPECT_EQ(job.spec().precision(), "float32");
  const Job done = daemon.WaitForState(job.name(), Job::SUCCEEDED);
  EXPECT_EQ(done.result().steps(), 10);
  // The worker got the typed spec, completed by the daemon (its directories, devices).
  const std::string dir = daemon.data_dir() + "/jobs/" + job.name().substr(5);
  EXPECT_TRUE(std::filesystem::exists(dir + "/spec.pb"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/spec.yaml"));
}

// A store written by a daemon that kept only spec_yaml.
TEST(TypedSpecTest, JobsStoredWithYamlOnlyAreMigratedAtStart) {
  DaemonHarness daemon;
  std::filesystem::create_directories(daemon.data_dir());
  ::chmod(daemon.data_dir().c_str(), 0700);
  {
    auto store = JobStore::Open(daemon.data_dir() + "/petabox.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto add = [&](const std::string& name, Job::State state, const std::string& yaml) {
      Job job;
      job.set_name(name);
      job.set_state(state);
      job.set_spec_yaml(yaml);
      job.set_device_count(1);
      bool created = false;
      ASSERT_TRUE((*store)->CreateJob(job, "", &created).ok());
    };
    add("jobs/j-000000000001", Job::QUEUED, ShortJobSpec(daemon.dataset_dir(), 10));
    add("jobs/j-000000000002", Job::QUEUED, ShortJobSpec(daemon.dataset_dir(), 10, 0, "optimizer_typo: 1\n"));
    add("jobs/j-000000000003", Job::SUCCEEDED, "name: old\n");
  }
  daemon.Start();
  const Job migrated = daemon.WaitForState("jobs/j-000000000001", Job::SUCCEEDED);
  ASSERT_TRUE(migrated.has_spec());
  EXPECT_EQ(migrated.spec().max_steps(), 10);
  EXPECT_EQ(migrated.result().steps(), 10);
  const Job invalid = daemon.WaitForState("jobs/j-000000000002", Job::FAILED);
  EXPECT_NE(invalid.failure_reason().find("optimizer_typo"), std::string::npos) << invalid.failure_reason();
  const Job ended = daemon.Get("jobs/j-000000000003");
  EXPECT_EQ(ended.state(), Job::SUCCEEDED);
  EXPECT_EQ(ended.spec_yaml(), "name: old\n");
  EXPECT_FALSE(ended.has_spec());
}

}  // namespace
}  // namespace petabox::daemon::testing
