// petabox-worker as a process: SIGTERM checkpoints and exits 0 with `preempted`, --resume
// finishes the job, --json's last stdout line is the result, failures exit non-zero with
// an `error` event, and the typed spec petaboxd hands over (--spec-proto) and the binary
// events it reads (--events-format proto) work.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon/supervisor/event_reader.h"
#include "daemon/worker/job_spec_proto.h"
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
  while (!Contains(ReadAll(events), "{\"progress\":{") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(pid, SIGTERM);
  ASSERT_EQ(Wait(pid), 0) << ReadAll(dir_ + "/stderr");
  const std::string preempted = LastLine(ReadAll(events));
  ASSERT_TRUE(Contains(preempted, "{\"preempted\":{")) << preempted;
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
  EXPECT_TRUE(Contains(result, "\"steps\":\"300\"")) << result;
  EXPECT_TRUE(Contains(ReadAll(events), "{\"resumed\":{"));
  EXPECT_TRUE(Contains(LastLine(ReadAll(events)), "{\"done\":{"));
}

TEST_F(WorkerProcessTest, DivergenceExitsNonZeroWithAnErrorEvent) {
  const std::string spec = WriteSpec("optimizer: {name: sgd, lr: 1.0e30}\n");
  EXPECT_EQ(RunToEnd({"--job", spec, "--json"}), 1);
  const std::string events = ReadAll(dir_ + "/stderr");
  EXPECT_TRUE(Contains(LastLine(events), "{\"error\":{\"reason\":\"TRAINING_FAILED\"")) << events;
  EXPECT_TRUE(Contains(LastLine(events), "training diverged"));
  EXPECT_TRUE(Contains(LastLine(ReadAll(dir_ + "/stdout")), "{\"error\":"));
}

TEST_F(WorkerProcessTest, InvalidSpecExitsTwoNamingTheKey) {
  const std::string spec = WriteSpec("optimizer: {lr: -1}\n");
  EXPECT_EQ(RunToEnd({"--job", spec}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "optimizer.lr: must be > 0, got -1"));
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "{\"error\":{\"reason\":\"INVALID_SPEC\""));
  EXPECT_EQ(RunToEnd({"--bogus"}), 2);
}

// The daemon's way: a typed spec (validated by the daemon, not again here) and binary events.
TEST_F(WorkerProcessTest, TypedSpecAndBinaryEvents) {
  JobSpec spec;
  spec.model = "mlp";
  spec.dataset.dir = dir_;
  spec.global_batch_size = 32;  // 3 steps per epoch
  spec.epochs = 2;
  spec.max_steps = 4;
  spec.checkpoint.dir = dir_ + "/ckpt";
  const std::string spec_file = dir_ + "/spec.pb";
  ASSERT_TRUE(WriteJobSpecFile(spec_file, spec).ok());
  const std::string events = dir_ + "/events.bin";
  ASSERT_EQ(RunToEnd({"--spec-proto", spec_file, "--events", events, "--events-format", "proto", "--usage-interval",
                      "0.001"}),
            0)
      << ReadAll(dir_ + "/stderr");
  daemon::WorkerEventReader reader;
  std::vector<v1::WorkerEvent> got;
  ASSERT_TRUE(reader.Feed(ReadAll(events), &got).ok());
  ASSERT_TRUE(reader.Finish().ok());
  ASSERT_GE(got.size(), 4u);
  // Usage reports may come first (setup ran kernels); then `started`, once.
  auto started = std::find_if(got.begin(), got.end(), [](const v1::WorkerEvent& e) { return e.has_started(); });
  ASSERT_NE(started, got.end());
  EXPECT_EQ(started->started().devices_size(), 1);
  EXPECT_EQ(started->started().total_steps(), 4);
  EXPECT_TRUE(started->has_time());
  EXPECT_TRUE(got.back().has_usage());  // the last report, after the run
  const v1::WorkerEvent& done = got[got.size() - 2];
  ASSERT_TRUE(done.has_done()) << done.DebugString();
  EXPECT_EQ(done.done().steps(), 4);
  EXPECT_TRUE(Contains(done.done().checkpoint(), dir_ + "/ckpt/"));
  bool progress = false, checkpoint = false;
  for (const v1::WorkerEvent& e : got) progress |= e.has_progress(), checkpoint |= e.has_checkpoint();
  EXPECT_TRUE(progress);
  EXPECT_TRUE(checkpoint);
}

TEST_F(WorkerProcessTest, TypedSpecIsCompleteAndMustParse) {
  JobSpec spec;
  spec.dataset.dir = dir_;
  const std::string spec_file = dir_ + "/spec.pb";
  ASSERT_TRUE(WriteJobSpecFile(spec_file, spec).ok());
  EXPECT_EQ(RunToEnd({"--spec-proto", spec_file, "--devices", "CPU:1"}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "--spec-proto takes a complete spec"));
  EXPECT_EQ(RunToEnd({"--spec-proto", spec_file, "--job", WriteSpec("")}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "give one of --job and --spec-proto"));
  std::ofstream(spec_file, std::ios::trunc) << "\xff\xff\xff not a spec";
  EXPECT_EQ(RunToEnd({"--spec-proto", spec_file, "--json"}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stdout"), "not a petabox.v1.JobSpec"));
  EXPECT_EQ(RunToEnd({"--job", WriteSpec(""), "--events-format", "xml"}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "--events-format: 'json' or 'proto', got 'xml'"));
}

TEST_F(WorkerProcessTest, CheckpointIntervalNeedsADirectory) {
  const std::string spec = WriteSpec("checkpoint: {interval_steps: 10}\n");
  EXPECT_EQ(RunToEnd({"--job", spec}), 2);
  EXPECT_TRUE(Contains(ReadAll(dir_ + "/stderr"), "checkpoint.dir: must be set when checkpoint.interval_steps > 0"));
}

}  // namespace
}  // namespace petabox::worker
