// petabox-worker as a process: SIGTERM checkpoints and exits 0 with "preempted", --resume
// finishes the job, --json's last stdout line is the result, and failures exit non-zero
// with an "error" event.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/daemon/worker/test_util.h"

extern char** environ;

namespace petabox::worker {
namespace {

using testutil::Contains;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class WorkerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshDir("w");
    testutil::WriteSyntheticMnist(dir_, /*train=*/96, /*test=*/40);
  }

  // Writes a spec: MLP, batch 32 (3 steps per epoch) on the synthetic data, plus `extra`.
  std::string WriteSpec(const std::string& extra) {
    const std::string path = dir_ + "/job.yaml";
    std::ofstream(path) << "model: mlp\ndataset: {dir: " << dir_ << "}\nglobal_batch_size: 32\nseed: 3\n" << extra;
    return path;
  }

  // Starts petabox-worker with `args`; stdout to dir_/stdout, stderr to dir_/stderr.
  pid_t Start(std::vector<std::string> args) {
    args.insert(args.begin(), PETABOX_WORKER_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  static int Wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  int RunToEnd(std::vector<std::string> args) { return Wait(Start(std::move(args))); }

  std::string dir_;
};

TEST_F(WorkerProcessTest, SigtermCheckpointsThenResumeFinishes) {
  const std::string spec = WriteSpec("epochs: 100\neval: {per_epoch: false}\ncheckpoint: {dir: " + dir_ + "/ckpt}\n");
  const std::string events = dir_ + "/events.jsonl";
  pid_t pid = Start({"--job", spec, "--json", "--events", events});
  // Wait for the first progress event: the worker is inside the training loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Contains(ReadAll(events), "\"event\":\"progress\"") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(pid, SIGTERM);
  ASSERT_EQ(Wait(pid), 0) << ReadAll(dir_ + "/stderr");
  const std::string preempted = LastLine(ReadAll(events));
  ASSERT_TRUE(Contains(preempted, "{\"event\":\"preempted\"")) << preempted;
  const size_t at = preempted.find("\"checkpoint\":\"");
  ASSERT_NE(at, std::string::npos);
  const size_t begin = at + 14;
  const std::string checkpoint = preempted.substr(begin, preempted.find('"', begin) - begin);
  EXPECT_TRUE(Contains(LastLine(ReadAll(dir_ + "/stdout")), "\"preempted\":true"));
  EXPECT_FALSE(Contains(checkpoint, "step-00000000")) << "preempted before the first step";

  ASSERT_EQ(RunToEnd({"--job", spec, "--json", "--events", events, "--resume", checkpoint}), 0)
      << ReadAll(dir_ + "/stderr");
  const std::string result = LastLine(ReadAll(dir_ + "/stdout"));
  EXPECT_TRUE(Contains(result, "\"test_accuracy\":")) << result;
  EXPECT_TRUE(Contains(result, "\"steps\":300")) << result;
  EXPECT_TRUE(Contains(ReadAll(events), "{\"event\":\"resumed\""));
  EXPECT_TRUE(Contains(LastLine(ReadAll(events)), "{\"event\":\"done\""));
}

TEST_F(WorkerProcessTest, DivergenceExitsNonZeroWithAnErrorEvent) {
  const std::string spec = WriteSpec("optimizer: {name: sgd, lr: 1.0e30}\n");
  EXPECT_EQ(RunToEnd({"--job", spec, "--json"}), 1);
  const std::string events = ReadAll(dir_ + "/stderr");
  EXPECT_TRUE(Contains(LastLine(events), "{\"event\":\"error\"")) << events;
  EXPECT_TRUE(Contains(LastLine(events), "training diverged"));
  EXPECT_TRUE(Contains(LastLine(ReadAll(dir_ + "/stdout")), "{\"error\":"));
}

TEST_F(WorkerProcessTest, InvalidSpecExitsTwoNamingTheKey) {
  const std::string spec = WriteSpec("optimizer: {lr: -1}\n");
  EXPECT_EQ(RunToEnd({"--job", spec}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "optimizer.lr: must be > 0, got -1"));
  EXPECT_EQ(RunToEnd({"--bogus"}), 2);
}

TEST_F(WorkerProcessTest, CheckpointIntervalNeedsADirectory) {
  const std::string spec = WriteSpec("checkpoint: {interval_steps: 10}\n");
  EXPECT_EQ(RunToEnd({"--job", spec}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "checkpoint.dir: must be set when checkpoint.interval_steps > 0"));
}

}  // namespace
}  // namespace petabox::worker
