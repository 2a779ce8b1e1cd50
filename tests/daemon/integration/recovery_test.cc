// Faults against a real petaboxd: a worker killed with SIGKILL (the job fails, or restarts
// from its checkpoint when the spec allows), the daemon stopped mid-job (the job resumes
// from its checkpoint at the next start), and the daemon killed with SIGKILL (no
// acknowledged job is lost).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

using v1::Job;

// Running (not exited, not a zombie waiting for its new parent to reap it).
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  return (in >> pid_field >> comm >> state) && state != "Z" && state != "X";
}

bool HasLog(const std::vector<v1::JobEvent>& events, const std::string& part) {
  for (const v1::JobEvent& e : events) {
    if (e.has_log() && e.log().text().find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(DaemonRecoveryTest, KilledWorkerFailsTheJobOnly) {
  DaemonHarness daemon("devices: [CPU:0, CPU:1]\n");
  daemon.Start();
  const Job victim = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  const Job bystander = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 3000));
  daemon.WaitFor(victim.name(), [](const Job& j) { return j.progress().step() > 0; });
  const pid_t worker = daemon.WorkerPid(victim.name());
  ASSERT_GT(worker, 0);
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  const Job failed = daemon.WaitForState(victim.name(), Job::FAILED, std::chrono::seconds(30));
  EXPECT_NE(failed.failure_reason().find("signal 9"), std::string::npos) << failed.failure_reason();
  EXPECT_EQ(failed.restarts(), 0);
  daemon.WaitForState(bystander.name(), Job::SUCCEEDED);
  v1::Box box;
  ASSERT_TRUE(daemon.box().GetBox(daemon.Context().get(), v1::GetBoxRequest(), &box).ok());
  EXPECT_EQ(box.running_jobs(), 0);
}

TEST(DaemonRecoveryTest, AWorkerErrorBecomesTheFailureReason) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string empty = daemon.dataset_dir() + "/../empty-dataset";
  std::filesystem::create_directories(empty);
  const Job job = daemon.Submit(ShortJobSpec(empty, 10));
  const Job failed = daemon.WaitForState(job.name(), Job::FAILED, std::chrono::seconds(60));
  EXPECT_NE(failed.failure_reason().find("empty-dataset"), std::string::npos) << failed.failure_reason();
  EXPECT_NE(failed.failure_reason().find("exit code 1"), std::string::npos) << failed.failure_reason();
  // The daemon goes on.
  const Job next = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  daemon.WaitForState(next.name(), Job::SUCCEEDED);
}

TEST(DaemonRecoveryTest, KilledWorkerRestartsFromCheckpointWithinMaxRestarts) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 6000, 20, "max_restarts: 1\n"));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.has_checkpoint() && j.progress().step() >= 40; });
  ASSERT_EQ(::kill(daemon.WorkerPid(job.name()), SIGKILL), 0);
  const Job done = daemon.WaitForState(job.name(), Job::SUCCEEDED, std::chrono::seconds(180));
  EXPECT_EQ(done.restarts(), 1);
  EXPECT_EQ(done.result().steps(), 6000);
  grpc::Status status;
  const auto events = daemon.Watch(job.name(), 0, &status);
  EXPECT_TRUE(HasLog(events, "resumed from the checkpoint at step"));
}

TEST(DaemonRecoveryTest, DaemonRestartResumesTheJobFromItsCheckpoint) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 6000, 50));
  const Job queued = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.progress().step() >= 60; });
  // A watch open across the stop ends with an error, never OK.
  grpc::Status watch_status;
  std::thread watcher([&] { daemon.Watch(job.name(), 0, &watch_status); });
  const int exit = daemon.Stop();
  watcher.join();
  EXPECT_TRUE(WIFEXITED(exit) && WEXITSTATUS(exit) == 0) << exit;
  EXPECT_FALSE(watch_status.ok());
  daemon.Start();
  const Job resumed = daemon.WaitForState(job.name(), Job::SUCCEEDED, std::chrono::seconds(180));
  EXPECT_EQ(resumed.result().steps(), 6000);
  grpc::Status status;
  const auto events = daemon.Watch(job.name(), 0, &status);
  EXPECT_TRUE(HasLog(events, "resumed from the checkpoint at step"));
  daemon.WaitForState(queued.name(), Job::SUCCEEDED);
}

// The job's checkpoint files, oldest first.
std::vector<std::string> Checkpoints(const DaemonHarness& daemon, const Job& job) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(daemon.data_dir() + "/jobs/" + job.name().substr(5) + "/checkpoints"))
    if (e.path().extension() == ".safetensors") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Overwrites 4 KiB in the middle of the file with their complement (the header stays intact).
void Flip4KiB(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const std::streamoff middle = f.tellg() / 2;
  std::string chunk(4096, '\0');
  f.seekg(middle);
  f.read(chunk.data(), 4096);
  for (char& c : chunk) c = static_cast<char>(~c);
  f.seekp(middle);
  f.write(chunk.data(), 4096);
}

// Issue 18: a drained job whose newest checkpoint was damaged resumes from the one before,
// with a warning naming the damaged file (every checkpoint damaged: runner_test's
// ResumeSkipsADamagedCheckpoint).
TEST(DaemonRecoveryTest, RestartSkipsADamagedCheckpoint) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000, 50));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.progress().step() >= 120; });
  ASSERT_EQ(daemon.Stop(), 0);
  const std::vector<std::string> files = Checkpoints(daemon, job);
  ASSERT_GE(files.size(), 2u);
  Flip4KiB(files.back());
  const std::string previous = files[files.size() - 2];
  const int64_t previous_step = std::stoll(previous.substr(previous.rfind("step-") + 5, 8));
  daemon.Start();
  const Job done = daemon.WaitForState(job.name(), Job::SUCCEEDED, std::chrono::seconds(180));
  EXPECT_EQ(done.result().steps(), 1000);
  grpc::Status status;
  const auto events = daemon.Watch(job.name(), 0, &status);
  EXPECT_TRUE(HasLog(events, "skipping a damaged checkpoint")) << daemon.Log();
  EXPECT_TRUE(HasLog(events, files.back()));
  EXPECT_TRUE(HasLog(events, "resumed from the checkpoint at step " + std::to_string(previous_step)));
}

TEST(DaemonRecoveryTest, Kill9OfTheDaemonLosesNoAcknowledgedJob) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const Job running = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000, 50));
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) names.push_back(daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10)).name());
  daemon.WaitFor(running.name(), [](const Job& j) { return j.progress().step() > 0; });
  const pid_t orphan = daemon.WorkerPid(running.name());
  ASSERT_GT(orphan, 0);
  daemon.Kill9();
  // The worker notices its parent died, checkpoints and exits (it does not train on alone).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Alive(orphan) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(Alive(orphan)) << "the worker outlived its daemon";
  daemon.Start();
  daemon.WaitForState(running.name(), Job::SUCCEEDED, std::chrono::seconds(180));
  for (const std::string& name : names) daemon.WaitForState(name, Job::SUCCEEDED);
}

}  // namespace
}  // namespace petabox::daemon::testing
