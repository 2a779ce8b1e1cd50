// WorkerProcess: supervision of one child process (petabox-worker) on the daemon's
// Boost.Asio event loop, once spawn.h started it (stdin /dev/null, stdout and stderr pipes
// whose lines become the job's log, fd 3 a pipe for its events, its own process group).
// It reads the three pipes, decodes the events (the worker protocol,
// proto/petabox/v1/worker.proto, through event_reader.h), reaps the child, and stops or
// kills its process group on request.
//
// All callbacks run on the io_context's thread. Calls must come from that thread too
// (post to it). on_exit runs exactly once, after the child exited and its output was read
// to the end (or 2 s after it exited, if a grandchild keeps a pipe open; that leftover
// process group is then killed). A protocol error on the events pipe is reported once
// through on_protocol_error; the supervisor then stops reading that pipe (no event follows)
// and leaves the child running: what to do about it is the caller's.
//
// Reaping: each WorkerProcess waitpid()s its own pid only (WNOHANG, on every SIGCHLD through
// a boost::asio::signal_set and on a 100 ms poll), so other code in the daemon may wait for
// its own children by pid, but must never call wait(), waitpid(-1 or 0, ...), or set
// SIGCHLD to SIG_IGN / SA_NOCLDWAIT: that would take the worker's exit status (on_exit then
// reports "exit code -1").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "engine/util/status.h"
#include "petabox/v1/worker.pb.h"

namespace petabox::daemon {

struct ExitInfo {
  bool signaled = false;  // killed by a signal (then `signal` says which)
  int exit_code = 0;      // when !signaled
  int signal = 0;
  // "exit code 1", "killed by signal 9 (Killed)".
  std::string ToString() const;
};

struct WorkerCallbacks {
  std::function<void(const v1::WorkerEvent& event)> on_event;   // one event from fd 3
  // The events on fd 3 broke the protocol (DataLoss "worker protocol error: ...").
  std::function<void(const Status& error)> on_protocol_error;
  std::function<void(const std::string& line)> on_log;          // one stdout or stderr line
  std::function<void(const ExitInfo& exit)> on_exit;
};

class WorkerProcess {
 public:
  // Starts argv[0] (a path) with argv[1..] and the environment of the daemon plus `env`
  // ("KEY=VALUE" entries that override), as SpawnChild (spawn.h) does, and supervises it.
  // Errors: SpawnChild's (NotFound for a missing executable, Unavailable with errno's
  // text when the process cannot be started), Unavailable when SIGCHLD cannot be watched.
  static StatusOr<std::unique_ptr<WorkerProcess>> Start(boost::asio::io_context& io,
                                                        const std::vector<std::string>& argv,
                                                        const std::vector<std::string>& env,
                                                        WorkerCallbacks callbacks);
  // Kills the process group (SIGKILL) if still running; callbacks do not run afterwards.
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // SIGTERM to the process group now, SIGKILL after `grace` if it has not exited.
  void RequestStop(std::chrono::milliseconds grace);
  // SIGKILL to the process group now.
  void Kill();
  pid_t pid() const;
  // True once the child has been reaped (on_exit may still wait for the pipes).
  bool exited() const;

 private:
  WorkerProcess() = default;
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace petabox::daemon
