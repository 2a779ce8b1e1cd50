// WorkerProcess with /bin/sh scripts as the child: events (length-delimited WorkerEvents
// written from files the test prepares) and log lines, protocol errors on the events pipe,
// exit codes and signals, stopping (clean and forced), start failures, the environment,
// several children at once, a grandchild that keeps a pipe open, and destruction while
// running. Every test
// runs the io_context against a deadline, so a bug fails the test instead of hanging it.
#include "daemon/supervisor/worker_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

namespace petabox::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A WorkerEvent carrying a log line, as the worker writes it on fd 3 (delimited).
std::string LogEvent(const std::string& text) {
  v1::WorkerEvent event;
  event.mutable_log()->set_text(text);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(event, &out);
  }
  return bytes;
}

// What the callbacks saw.
struct Recorder {
  std::vector<std::string> events;  // the log events' texts
  std::vector<Status> protocol_errors;
  std::vector<std::string> logs;
  std::optional<ExitInfo> exit;
  int exit_calls = 0;
  int calls = 0;  // all callbacks

  WorkerCallbacks Callbacks() {
    WorkerCallbacks c;
    c.on_event = [this](const v1::WorkerEvent& event) {
      events.push_back(event.log().text());
      ++calls;
    };
    c.on_protocol_error = [this](const Status& error) {
      protocol_errors.push_back(error);
      ++calls;
    };
    c.on_log = [this](const std::string& line) {
      logs.push_back(line);
      ++calls;
    };
    c.on_exit = [this](const ExitInfo& e) {
      exit = e;
      ++exit_calls;
      ++calls;
    };
    return c;
  }
  bool HasLog(const std::string& line) const {
    return std::find(logs.begin(), logs.end(), line) != logs.end();
  }
};

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

class SupervisorWorkerProcessTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` or `limit`; true when `done`.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = Clock::now() + limit;
    while (!done() && Clock::now() < deadline) {
      io_.run_for(5ms);
      if (io_.stopped()) io_.restart();
    }
    return done();
  }
  // Runs the loop for `duration` regardless.
  void RunFor(std::chrono::milliseconds duration) {
    RunUntil([] { return false; }, duration);
  }
  std::unique_ptr<WorkerProcess> StartOk(const std::vector<std::string>& argv, Recorder& rec,
                                         const std::vector<std::string>& env = {}) {
    auto started = WorkerProcess::Start(io_, argv, env, rec.Callbacks());
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    return started.ok() ? std::move(started).value() : nullptr;
  }
  // A file in a fresh per-test directory.
  std::string TempFile(const std::string& name, const std::string& content, mode_t mode) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / ("pbsup_" + std::to_string(::getpid()) + "_" + info->name());
    if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) {  // a test's first file
      std::filesystem::remove_all(dir);
      dirs_.push_back(dir);
    }
    std::filesystem::create_directories(dir);
    const std::string path = (dir / name).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  void TearDown() override {
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir);
  }

  boost::asio::io_context io_;
  std::vector<std::filesystem::path> dirs_;
};

// True when `pid` no longer runs (gone, or a zombie waiting for a reaper that is not us).
bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

bool EventuallyGone(pid_t pid) {
  const auto deadline = Clock::now() + 3s;
  while (!ProcessGone(pid) && Clock::now() < deadline) ::usleep(10000);
  return ProcessGone(pid);
}

TEST(WorkerProcessExitInfoTest, ToString) {
  ExitInfo code;
  code.exit_code = 1;
  EXPECT_EQ(code.ToString(), "exit code 1");
  ExitInfo killed;
  killed.signaled = true;
  killed.signal = 9;
  EXPECT_EQ(killed.ToString(), "killed by signal 9 (Killed)");
  killed.signal = 15;
  EXPECT_EQ(killed.ToString(), "killed by signal 15 (Terminated)");
}

TEST_F(SupervisorWorkerProcessTest, EventsLogsAndExitCode) {
  const std::string a = TempFile("a.bin", LogEvent("a"), 0644);
  const std::string b = TempFile("b.bin", LogEvent("b"), 0644);
  Recorder rec;
  auto proc = StartOk(Sh("cat " + a + " >&3; echo out1; echo err1 >&2; cat " + b + " >&3; printf 'tail'; exit 3"), rec);
  ASSERT_TRUE(proc);
  EXPECT_GT(proc->pid(), 0);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  RunFor(200ms);  // nothing more may arrive
  EXPECT_EQ(rec.exit_calls, 1);
  EXPECT_FALSE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->exit_code, 3);
  EXPECT_TRUE(proc->exited());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(rec.protocol_errors.empty());
  EXPECT_EQ(rec.logs.size(), 3u);
  EXPECT_TRUE(rec.HasLog("out1"));
  EXPECT_TRUE(rec.HasLog("err1"));
  EXPECT_TRUE(rec.HasLog("tail"));  // the unterminated last line
}

// An event split over two writes (and reads) arrives once, whole.
TEST_F(SupervisorWorkerProcessTest, EventSplitAcrossWrites) {
  const std::string event = LogEvent(std::string(300, 'x'));
  const std::string head = TempFile("head.bin", event.substr(0, 2), 0644);
  const std::string rest = TempFile("rest.bin", event.substr(2), 0644);
  Recorder rec;
  auto proc = StartOk(Sh("cat " + head + " >&3; sleep 0.2; cat " + rest + " >&3"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_EQ(rec.events, std::vector<std::string>{std::string(300, 'x')});
  EXPECT_TRUE(rec.protocol_errors.empty());
}

// The stream ends inside an event: the events before it arrive, then one protocol error;
// the exit is still reported (exit code 0: the process itself ended well).
TEST_F(SupervisorWorkerProcessTest, TruncatedEventIsAProtocolErrorAtExit) {
  const std::string whole = LogEvent("whole");
  const std::string cut = LogEvent("cut short");
  const std::string file = TempFile("events.bin", whole + cut.substr(0, cut.size() - 3), 0644);
  Recorder rec;
  auto proc = StartOk(Sh("cat " + file + " >&3"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_EQ(rec.events, std::vector<std::string>{"whole"});
  ASSERT_EQ(rec.protocol_errors.size(), 1u);
  EXPECT_EQ(rec.protocol_errors[0].code(), StatusCode::kDataLoss);
  EXPECT_NE(rec.protocol_errors[0].message().find("worker protocol error: event 2"), std::string::npos)
      << rec.protocol_errors[0].ToString();
  EXPECT_EQ(rec.exit->ToString(), "exit code 0");
}

// Garbage on fd 3 is reported once; the supervisor stops reading that pipe but keeps
// supervising the process (logs, exit) until it ends.
TEST_F(SupervisorWorkerProcessTest, GarbageEventsReportedOnceProcessStillSupervised) {
  const std::string file = TempFile("garbage.bin", std::string(16, '\xff'), 0644);
  Recorder rec;
  auto proc = StartOk(Sh("cat " + file + " >&3; sleep 0.2; cat " + file + " >&3; echo still-here; exit 4"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  ASSERT_EQ(rec.protocol_errors.size(), 1u);
  EXPECT_NE(rec.protocol_errors[0].message().find("size prefix is longer than 5 bytes"), std::string::npos)
      << rec.protocol_errors[0].ToString();
  EXPECT_TRUE(rec.events.empty());
  EXPECT_TRUE(rec.HasLog("still-here"));
  EXPECT_EQ(rec.exit->exit_code, 4);
}

TEST_F(SupervisorWorkerProcessTest, ManyLinesInOrderAndLongLines) {
  Recorder rec;
  auto proc = StartOk(Sh("i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done; "
                         "head -c 10000 /dev/zero | tr '\\0' a; echo; echo '' ; echo last"),
                      rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }, 20s));
  ASSERT_EQ(rec.logs.size(), 3003u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(rec.logs[i], "line" + std::to_string(i));
  EXPECT_EQ(rec.logs[3000], std::string(10000, 'a'));
  EXPECT_EQ(rec.logs[3001], "");  // an empty line is a line
  EXPECT_EQ(rec.logs[3002], "last");
}

TEST_F(SupervisorWorkerProcessTest, KilledBySignal) {
  Recorder rec;
  auto proc = StartOk(Sh("echo before; kill -9 $$; echo after"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_TRUE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->signal, SIGKILL);
  EXPECT_EQ(rec.exit->ToString(), "killed by signal 9 (Killed)");
  EXPECT_TRUE(rec.HasLog("before"));
  EXPECT_FALSE(rec.HasLog("after"));
}

TEST_F(SupervisorWorkerProcessTest, StdinIsDevNullAndOwnProcessGroup) {
  Recorder rec;
  auto proc = StartOk(Sh("cat; echo stdin-closed; sleep 0.3"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.HasLog("stdin-closed"); }));
  EXPECT_EQ(::getpgid(proc->pid()), proc->pid());
  EXPECT_NE(::getpgid(proc->pid()), ::getpgrp());
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_EQ(rec.exit->exit_code, 0);
}

TEST_F(SupervisorWorkerProcessTest, RequestStopChildExitsCleanlyOnTerm) {
  Recorder rec;
  auto proc = StartOk(Sh("trap 'echo got-term; exit 7' TERM; echo ready; "
                         "while :; do sleep 0.05; done"),
                      rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.HasLog("ready"); }));
  const auto stop_at = Clock::now();
  proc->RequestStop(10s);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_LT(Clock::now() - stop_at, 3s);  // did not wait for the grace period
  EXPECT_FALSE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->exit_code, 7);
  EXPECT_TRUE(rec.HasLog("got-term"));
}

TEST_F(SupervisorWorkerProcessTest, RequestStopKillsAfterGraceWhenTermIgnored) {
  Recorder rec;
  auto proc = StartOk(Sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.HasLog("ready"); }));
  const auto stop_at = Clock::now();
  proc->RequestStop(400ms);
  RunFor(200ms);
  EXPECT_EQ(rec.exit_calls, 0);  // TERM is ignored; still inside the grace period
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_GE(Clock::now() - stop_at, 400ms);
  EXPECT_TRUE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->signal, SIGKILL);
}

TEST_F(SupervisorWorkerProcessTest, KillEndsTheChild) {
  Recorder rec;
  auto proc = StartOk(Sh("echo ready; sleep 30"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.HasLog("ready"); }));
  proc->Kill();
  // sleep (same group) is killed too, so the pipes close and on_exit needs no drain wait.
  const auto kill_at = Clock::now();
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  EXPECT_LT(Clock::now() - kill_at, 1500ms);
  EXPECT_TRUE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->signal, SIGKILL);
}

// Start failures (spawn_test.cc checks each one's status) run no callback, then or later.
TEST_F(SupervisorWorkerProcessTest, FailedStartsRunNoCallbacks) {
  Recorder rec;
  auto missing = WorkerProcess::Start(io_, {"/nonexistent/petabox-worker", "--x"}, {}, rec.Callbacks());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/petabox-worker"), std::string::npos);
  // Executable bits but no valid format and no #!: execve fails with ENOEXEC.
  const std::string path = TempFile("garbage", std::string("\x7f\x01\x02garbage", 10), 0755);
  auto garbage = WorkerProcess::Start(io_, {path}, {}, rec.Callbacks());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kUnavailable);
  RunFor(100ms);
  EXPECT_EQ(rec.calls, 0);
}

TEST_F(SupervisorWorkerProcessTest, TwoChildrenEachGetTheirOwnExit) {
  Recorder slow, fast;
  auto a = StartOk(Sh("sleep 0.3; echo slow; exit 1"), slow);
  auto b = StartOk(Sh("echo fast; exit 2"), fast);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(RunUntil([&] { return fast.exit_calls > 0; }));
  EXPECT_EQ(slow.exit_calls, 0);
  ASSERT_TRUE(RunUntil([&] { return slow.exit_calls > 0; }));
  RunFor(200ms);
  EXPECT_EQ(slow.exit_calls, 1);
  EXPECT_EQ(fast.exit_calls, 1);
  EXPECT_EQ(slow.exit->exit_code, 1);
  EXPECT_EQ(fast.exit->exit_code, 2);
  EXPECT_EQ(slow.logs, std::vector<std::string>{"slow"});
  EXPECT_EQ(fast.logs, std::vector<std::string>{"fast"});
}

TEST_F(SupervisorWorkerProcessTest, OtherChildrenOfTheDaemonAreNotReaped) {
  // A child that is not a WorkerProcess must stay for its own owner's waitpid.
  const pid_t other = ::fork();
  if (other == 0) ::_exit(42);
  ASSERT_GT(other, 0);
  Recorder rec;
  auto proc = StartOk(Sh("sleep 0.2; exit 0"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  RunFor(300ms);  // several SIGCHLDs and polls
  int status = 0;
  ASSERT_EQ(::waitpid(other, &status, 0), other);
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST_F(SupervisorWorkerProcessTest, GrandchildHoldingThePipeDoesNotBlockExit) {
  Recorder rec;
  auto proc = StartOk(Sh("sleep 30 & echo $!; exit 4"), rec);
  ASSERT_TRUE(proc);
  const auto started = Clock::now();
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }, 4s));
  const auto took = Clock::now() - started;
  EXPECT_GE(took, 1500ms);  // it waited for the pipes a while
  EXPECT_LT(took, 3500ms);
  EXPECT_EQ(rec.exit->exit_code, 4);
  ASSERT_EQ(rec.logs.size(), 1u);
  // The leftover grandchild (same process group) is killed with it.
  EXPECT_TRUE(EventuallyGone(std::stoi(rec.logs[0])));
  RunFor(100ms);
  EXPECT_EQ(rec.exit_calls, 1);
}

TEST_F(SupervisorWorkerProcessTest, DestroyWhileRunningKillsWithoutCallbacks) {
  Recorder rec;
  auto proc = StartOk(Sh("trap '' TERM; echo ready; while :; do echo tick; sleep 0.01; done"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.HasLog("ready"); }));
  const pid_t pid = proc->pid();
  const int calls_before = rec.calls;
  proc.reset();
  RunFor(500ms);
  EXPECT_EQ(rec.calls, calls_before);
  EXPECT_EQ(rec.exit_calls, 0);
  // Killed, and reaped by the State that outlived the object: no zombie is left.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(SupervisorWorkerProcessTest, DestroyWithoutRunningTheLoop) {
  Recorder rec;
  auto proc = StartOk(Sh("sleep 30"), rec);
  ASSERT_TRUE(proc);
  const pid_t pid = proc->pid();
  proc.reset();
  RunFor(300ms);
  EXPECT_EQ(rec.calls, 0);
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST_F(SupervisorWorkerProcessTest, DestroyFromOnLogStopsFurtherCallbacks) {
  Recorder rec;
  std::unique_ptr<WorkerProcess> proc;
  WorkerCallbacks callbacks = rec.Callbacks();
  callbacks.on_log = [&](const std::string& line) {
    rec.logs.push_back(line);
    proc.reset();
  };
  auto started = WorkerProcess::Start(io_, Sh("echo one; echo two; echo three; exit 0"), {},
                                      std::move(callbacks));
  ASSERT_TRUE(started.ok());
  proc = std::move(started).value();
  ASSERT_TRUE(RunUntil([&] { return !rec.logs.empty(); }));
  RunFor(300ms);
  EXPECT_EQ(rec.logs, std::vector<std::string>{"one"});
  EXPECT_EQ(rec.exit_calls, 0);
}

TEST_F(SupervisorWorkerProcessTest, DestroyFromOnExitIsSafe) {
  Recorder rec;
  std::unique_ptr<WorkerProcess> proc;
  WorkerCallbacks callbacks = rec.Callbacks();
  callbacks.on_exit = [&](const ExitInfo& e) {
    ++rec.exit_calls;
    rec.exit = e;
    proc.reset();
  };
  auto started = WorkerProcess::Start(io_, Sh("echo bye; exit 5"), {}, std::move(callbacks));
  ASSERT_TRUE(started.ok());
  proc = std::move(started).value();
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  RunFor(100ms);
  EXPECT_FALSE(proc);
  EXPECT_EQ(rec.exit_calls, 1);
  EXPECT_EQ(rec.exit->exit_code, 5);
}

TEST_F(SupervisorWorkerProcessTest, RequestStopAfterExitIsHarmless) {
  Recorder rec;
  auto proc = StartOk(Sh("exit 0"), rec);
  ASSERT_TRUE(proc);
  ASSERT_TRUE(RunUntil([&] { return rec.exit_calls > 0; }));
  proc->RequestStop(10ms);
  proc->Kill();
  RunFor(100ms);
  EXPECT_EQ(rec.exit_calls, 1);
}

}  // namespace
}  // namespace petabox::daemon
