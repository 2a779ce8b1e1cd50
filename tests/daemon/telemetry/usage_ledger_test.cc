// UsageLedger with a fake clock: device holders, device-seconds, FLOPs and steps from
// worker reports (restarts included), state counts and queue waits.
#include "daemon/telemetry/usage_ledger.h"

#include <gtest/gtest.h>

#include "tests/daemon/telemetry/fake_telemetry.h"

namespace petabox::daemon {
namespace {

using testing::FakeClock;
using testing::TestJob;
using v1::Job;

WorkerUsage Usage(const std::string& device, double busy, double flops, int64_t steps, int64_t samples) {
  WorkerUsage u;
  u.devices[device] = DeviceUsage{busy, flops, 1, 4096};
  u.steps = steps;
  u.samples = samples;
  u.step_seconds_sum = 0.01 * static_cast<double>(steps);
  u.step_buckets.assign(StepSecondsBounds().size() + 1, 0);
  u.step_buckets[3] = static_cast<uint64_t>(steps);  // (0.005, 0.01]
  return u;
}

TEST(UsageLedgerTest, JobLifecycleAccountsDevicesAndTenant) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0", "CPU:1"}, &clock);
  ledger.OnJobState(TestJob("jobs/a", Job::QUEUED));
  EXPECT_EQ(ledger.Snapshot().active_jobs.at(Job::QUEUED), 1);
  clock.Advance(3);
  ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CPU:1"}));
  LedgerSnapshot s = ledger.Snapshot();
  EXPECT_EQ(s.queue_wait.count(), 1u);
  EXPECT_DOUBLE_EQ(s.queue_wait.sum, 3);
  EXPECT_EQ(s.devices.at("CPU:1").job, "jobs/a");
  EXPECT_EQ(s.devices.at("CPU:1").tenant, "owner");
  EXPECT_EQ(s.devices.at("CPU:0").job, "");
  ledger.OnJobState(TestJob("jobs/a", Job::RUNNING, {"CPU:1"}));
  clock.Advance(10);
  ledger.OnWorkerUsage("jobs/a", Usage("CPU:1", 4, 1e9, 5, 160));
  s = ledger.Snapshot();
  EXPECT_DOUBLE_EQ(s.tenants.at("owner").device_seconds, 10);  // open hold, counted to now
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:1").busy_seconds, 4);
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:1").flops, 1e9);
  EXPECT_EQ(s.devices.at("CPU:1").engine_memory_bytes, 4096);
  EXPECT_DOUBLE_EQ(s.jobs.at("jobs/a").samples, 160);
  EXPECT_EQ(s.jobs.at("jobs/a").step_seconds.count(), 5u);
  EXPECT_TRUE(s.jobs.at("jobs/a").last_progress_unix.has_value());
  EXPECT_EQ(s.active_jobs.at(Job::RUNNING), 1);
  // Cumulative reports: only growth counts.
  ledger.OnWorkerUsage("jobs/a", Usage("CPU:1", 5, 1.5e9, 7, 224));
  s = ledger.Snapshot();
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:1").flops, 1.5e9);
  EXPECT_DOUBLE_EQ(s.tenants.at("owner").flops, 1.5e9);
  EXPECT_EQ(s.jobs.at("jobs/a").step_seconds.count(), 7u);
  clock.Advance(5);
  ledger.OnJobState(TestJob("jobs/a", Job::SUCCEEDED));
  clock.Advance(100);  // no longer held: device-seconds stop
  s = ledger.Snapshot();
  EXPECT_DOUBLE_EQ(s.tenants.at("owner").device_seconds, 15);
  EXPECT_EQ(s.devices.at("CPU:1").job, "");
  EXPECT_EQ(s.devices.at("CPU:1").engine_memory_bytes, 0);
  EXPECT_TRUE(s.jobs.empty());
  EXPECT_EQ(s.finished_jobs.at(Job::SUCCEEDED), 1);
  EXPECT_EQ(s.active_jobs.at(Job::RUNNING), 0);
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:1").flops, 1.5e9);  // device totals stay
}

TEST(UsageLedgerTest, RestartedWorkerCountsFromZeroAgain) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0"}, &clock);
  ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CPU:0"}));
  ledger.OnWorkerUsage("jobs/a", Usage("CPU:0", 2, 100, 10, 10));
  // The worker crashed; the job is requeued and runs in a new worker.
  ledger.OnJobState(TestJob("jobs/a", Job::QUEUED));
  ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CPU:0"}));
  ledger.OnWorkerUsage("jobs/a", Usage("CPU:0", 1, 30, 2, 2));
  const LedgerSnapshot s = ledger.Snapshot();
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:0").flops, 130);
  EXPECT_DOUBLE_EQ(s.devices.at("CPU:0").busy_seconds, 3);
  EXPECT_DOUBLE_EQ(s.tenants.at("owner").flops, 130);
  EXPECT_DOUBLE_EQ(s.jobs.at("jobs/a").steps, 2);  // this hold only
  EXPECT_EQ(s.queue_wait.count(), 1u);  // the second start (the first never queued here)
}

TEST(UsageLedgerTest, IgnoresDevicesAJobDoesNotHold) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0", "CPU:1"}, &clock);
  ledger.OnWorkerUsage("jobs/nobody", Usage("CPU:0", 1, 10, 1, 1));
  ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CPU:0"}));
  ledger.OnWorkerUsage("jobs/a", Usage("CPU:1", 1, 10, 1, 1));
  ledger.OnWorkerUsage("jobs/a", Usage("GPU:9", 1, 10, 1, 1));
  const LedgerSnapshot s = ledger.Snapshot();
  EXPECT_EQ(s.devices.at("CPU:0").flops, 0);
  EXPECT_EQ(s.devices.at("CPU:1").flops, 0);
  EXPECT_EQ(s.devices.count("GPU:9"), 0u);
}

TEST(UsageLedgerTest, QueuedAtStartWaitedSinceCreation) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0"}, &clock);
  Job job = TestJob("jobs/old", Job::QUEUED);
  job.mutable_create_time()->set_seconds(static_cast<int64_t>(clock.UnixNow()) - 60);
  ledger.OnJobState(job);
  clock.Advance(1);
  ledger.OnJobState(TestJob("jobs/old", Job::STARTING, {"CPU:0"}));
  EXPECT_NEAR(ledger.Snapshot().queue_wait.sum, 61, 1);
}

TEST(UsageLedgerTest, CancelledWhileQueuedCountsOnce) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0"}, &clock);
  ledger.OnJobState(TestJob("jobs/a", Job::QUEUED));
  ledger.OnJobState(TestJob("jobs/a", Job::CANCELLED));
  ledger.OnJobState(TestJob("jobs/a", Job::CANCELLED));
  const LedgerSnapshot s = ledger.Snapshot();
  EXPECT_EQ(s.finished_jobs.at(Job::CANCELLED), 1);
  EXPECT_EQ(s.active_jobs.at(Job::QUEUED), 0);
  EXPECT_EQ(s.queue_wait.count(), 0u);
  EXPECT_TRUE(s.tenants.empty());
}

TEST(UsageLedgerTest, EnergyGoesToTheTenant) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0"}, &clock);
  ledger.AddTenantEnergy("owner", 12.5);
  ledger.AddTenantEnergy("", 99);      // idle: nobody's
  ledger.AddTenantEnergy("owner", -1);  // never negative
  EXPECT_DOUBLE_EQ(ledger.Snapshot().tenants.at("owner").energy_joules, 12.5);
}

}  // namespace
}  // namespace petabox::daemon
