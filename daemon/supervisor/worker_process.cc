#include "daemon/supervisor/worker_process.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <array>
#include <cstddef>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/supervisor/event_reader.h"
#include "daemon/supervisor/spawn.h"

namespace petabox::daemon {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// How long on_exit waits for the pipes after the child exited: a grandchild that inherited
// them (a compiler left running in the background) must not hold the job open forever.
constexpr std::chrono::seconds kDrainTimeout{2};
// SIGCHLD is the fast path for noticing the exit; this poll is the fallback in case the
// signal is lost (installed late, coalesced with another child's, blocked in a thread).
constexpr std::chrono::milliseconds kReapPoll{100};
// A child that writes without newlines still produces bounded log lines.
constexpr size_t kMaxLineBytes = 1 << 20;

ExitInfo DecodeWaitStatus(int status) {
  ExitInfo info;
  if (WIFSIGNALED(status)) {
    info.signaled = true;
    info.signal = WTERMSIG(status);
  } else {
    info.exit_code = WEXITSTATUS(status);
  }
  return info;
}

}  // namespace

std::string ExitInfo::ToString() const {
  if (!signaled) return "exit code " + std::to_string(exit_code);
  const char* description = sigdescr_np(signal);
  return "killed by signal " + std::to_string(signal) + " (" +
         (description != nullptr ? description : "unknown signal") + ")";
}

// Everything the asynchronous operations touch. Each pending handler holds a shared_ptr to
// it, so it outlives the WorkerProcess until the last handler has run; `alive` (cleared by
// the destructor) keeps callbacks from running after that. Used on the io_context's thread
// only, so there is no locking.
struct WorkerProcess::State : std::enable_shared_from_this<WorkerProcess::State> {
  // One pipe from the child: stdout, stderr (log lines) or fd 3 (length-delimited events).
  struct Stream {
    Stream(asio::io_context& io, bool events) : descriptor(io), is_events(events) {}
    asio::posix::stream_descriptor descriptor;
    std::array<char, 4096> buffer;
    std::string partial;        // log streams: bytes after the last '\n'
    WorkerEventReader reader;   // the events stream
    bool failed = false;        // the events broke the protocol (reported once)
    bool open = false;
    bool is_events;
  };

  explicit State(asio::io_context& io_context)
      : io(io_context), sigchld(io_context), poll_timer(io_context),
        kill_timer(io_context), drain_timer(io_context) {
    streams.push_back(std::make_unique<Stream>(io_context, false));  // stdout
    streams.push_back(std::make_unique<Stream>(io_context, false));  // stderr
    streams.push_back(std::make_unique<Stream>(io_context, true));   // events
  }

  Status WatchForExit();
  Status Begin(std::array<UniqueFd, 3> read_ends);
  void ReadMore(Stream& stream);
  void OnRead(Stream& stream, const error_code& ec, size_t bytes);
  void DeliverLines(Stream& stream);
  void DeliverLine(const std::string& line);
  void DeliverEvents(Stream& stream, std::string_view bytes);
  void DeliverProtocolError(const Status& error);
  void CloseStream(Stream& stream);
  void ArmSigchld();
  void ArmPoll();
  void CheckReaped();
  void OnReaped(const ExitInfo& info);
  void OnDrainTimeout();
  void MaybeFinish();
  void Finish();
  void KillGroup(int signal) const {
    if (pid > 0) ::killpg(pid, signal);  // killpg(0) would signal the daemon's own group
  }
  void ReleaseCallbacksLater();

  asio::io_context& io;
  pid_t pid = -1;
  WorkerCallbacks callbacks;
  bool alive = true;      // the WorkerProcess exists; callbacks may run
  bool reaped = false;    // waitpid returned the child's status
  bool finished = false;  // on_exit ran (or would have, had the owner been alive)
  ExitInfo exit_info;
  int open_streams = 0;
  std::vector<std::unique_ptr<Stream>> streams;
  asio::signal_set sigchld;
  asio::steady_timer poll_timer;
  asio::steady_timer kill_timer;
  asio::steady_timer drain_timer;
};

Status WorkerProcess::State::WatchForExit() {
  error_code ec;
  sigchld.add(SIGCHLD, ec);
  // A SIGCHLD that comes before ArmSigchld stays queued in the set.
  return ec ? Unavailable("cannot watch for SIGCHLD: " + ec.message()) : Status::Ok();
}

// On failure the caller still owns a running child: its destructor kills and reaps it.
Status WorkerProcess::State::Begin(std::array<UniqueFd, 3> read_ends) {
  ArmSigchld();  // the reaper runs whatever fails below
  ArmPoll();
  for (size_t i = 0; i < streams.size(); ++i) {
    error_code ec;
    streams[i]->descriptor.assign(read_ends[i].get(), ec);
    if (ec) return Unavailable("cannot watch the worker's pipes: " + ec.message());
    read_ends[i].release();  // the descriptor object owns it now
    streams[i]->open = true;
    ++open_streams;
  }
  for (auto& stream : streams) ReadMore(*stream);
  CheckReaped();  // a child that exited before the SIGCHLD handler was armed
  return Status::Ok();
}

void WorkerProcess::State::ReadMore(Stream& stream) {
  stream.descriptor.async_read_some(
      asio::buffer(stream.buffer),
      [self = shared_from_this(), &stream](const error_code& ec, size_t bytes) {
        self->OnRead(stream, ec, bytes);
      });
}

void WorkerProcess::State::OnRead(Stream& stream, const error_code& ec, size_t bytes) {
  if (!stream.open) return;  // closed meanwhile (drain timeout or destructor)
  if (bytes > 0) {
    if (stream.is_events) {
      DeliverEvents(stream, std::string_view(stream.buffer.data(), bytes));
    } else {
      stream.partial.append(stream.buffer.data(), bytes);
      DeliverLines(stream);
    }
    // A callback destroyed the WorkerProcess, or the events broke the protocol.
    if (!alive || !stream.open) {
      MaybeFinish();
      return;
    }
  }
  if (ec) {  // EOF, or a read error: either way nothing more comes from this pipe
    CloseStream(stream);
    MaybeFinish();
    return;
  }
  ReadMore(stream);
}

void WorkerProcess::State::DeliverLines(Stream& stream) {
  size_t start = 0;
  for (size_t nl; (nl = stream.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    DeliverLine(stream.partial.substr(start, nl - start));
    // A callback that destroys the WorkerProcess closes the stream; stop touching it.
    if (!alive || !stream.open) return;
  }
  stream.partial.erase(0, start);
  if (stream.partial.size() >= kMaxLineBytes) DeliverLine(std::exchange(stream.partial, {}));
}

void WorkerProcess::State::DeliverLine(const std::string& line) {
  if (alive && callbacks.on_log) callbacks.on_log(line);
}

// Decodes what arrived on the events pipe; a protocol error ends that stream (it cannot be
// resynchronized), after the events before the error were delivered.
void WorkerProcess::State::DeliverEvents(Stream& stream, std::string_view bytes) {
  std::vector<v1::WorkerEvent> events;
  const Status status = stream.reader.Feed(bytes, &events);
  for (const v1::WorkerEvent& event : events) {
    if (alive && callbacks.on_event) callbacks.on_event(event);
    if (!alive || !stream.open) return;
  }
  if (!status.ok()) {
    stream.failed = true;
    CloseStream(stream);
    DeliverProtocolError(status);
  }
}

void WorkerProcess::State::DeliverProtocolError(const Status& error) {
  if (alive && callbacks.on_protocol_error) callbacks.on_protocol_error(error);
}

// Closes our end; a final log line without '\n' is still delivered, and an events stream
// that ended inside an event is a protocol error.
void WorkerProcess::State::CloseStream(Stream& stream) {
  if (!stream.open) return;
  stream.open = false;
  --open_streams;
  error_code ignored;
  stream.descriptor.close(ignored);  // a pending read completes with operation_aborted
  if (stream.is_events) {
    if (stream.failed) return;  // DeliverEvents reports it
    stream.failed = true;
    if (Status status = stream.reader.Finish(); !status.ok()) DeliverProtocolError(status);
    return;
  }
  std::string rest = std::exchange(stream.partial, {});
  if (!rest.empty()) DeliverLine(rest);
}

void WorkerProcess::State::ArmSigchld() {
  sigchld.async_wait([self = shared_from_this()](const error_code& ec, int) {
    if (ec || self->reaped) return;
    // Any child's exit raises SIGCHLD; CheckReaped asks about our pid only.
    self->CheckReaped();
    if (!self->reaped) self->ArmSigchld();
  });
}

void WorkerProcess::State::ArmPoll() {
  poll_timer.expires_after(kReapPoll);
  poll_timer.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->reaped) return;
    self->CheckReaped();
    if (!self->reaped) self->ArmPoll();
  });
}

void WorkerProcess::State::CheckReaped() {
  if (reaped || pid <= 0) return;  // pid -1 would reap any child
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) {
    OnReaped(DecodeWaitStatus(status));
  } else if (r < 0 && errno == ECHILD) {
    // Someone else reaped our child (a waitpid(-1) elsewhere in the daemon): the process is
    // gone but its status is lost.
    ExitInfo lost;
    lost.exit_code = -1;
    OnReaped(lost);
  }
}

void WorkerProcess::State::OnReaped(const ExitInfo& info) {
  reaped = true;
  exit_info = info;
  error_code ignored;
  sigchld.cancel(ignored);
  poll_timer.cancel();
  kill_timer.cancel();
  if (open_streams == 0) {
    Finish();
    return;
  }
  drain_timer.expires_after(kDrainTimeout);
  drain_timer.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->OnDrainTimeout();
  });
}

// The child exited but something (a grandchild in its group) still holds a pipe: end the
// leftovers (the group id stays reserved while any member lives) and report the exit.
void WorkerProcess::State::OnDrainTimeout() {
  if (finished) return;
  KillGroup(SIGKILL);
  for (auto& stream : streams) {
    CloseStream(*stream);
    if (!alive) break;
  }
  Finish();
}

void WorkerProcess::State::MaybeFinish() {
  if (reaped && open_streams == 0) Finish();
}

void WorkerProcess::State::Finish() {
  if (finished) return;
  finished = true;
  drain_timer.cancel();
  if (alive && callbacks.on_exit) callbacks.on_exit(exit_info);
  ReleaseCallbacksLater();
}

// Drops the callbacks (and whatever they captured) once no callback is on the stack.
void WorkerProcess::State::ReleaseCallbacksLater() {
  asio::post(io, [self = shared_from_this()] { self->callbacks = {}; });
}

StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Start(asio::io_context& io,
                                                              const std::vector<std::string>& argv,
                                                              const std::vector<std::string>& env,
                                                              WorkerCallbacks callbacks) {
  auto state = std::make_shared<State>(io);
  state->callbacks = std::move(callbacks);
  // SIGCHLD is handled before the child exists, so its exit cannot go unnoticed.
  PB_RETURN_IF_ERROR(state->WatchForExit());
  PB_ASSIGN_OR_RETURN(SpawnedChild child, SpawnChild(argv, env));
  state->pid = child.pid;
  std::unique_ptr<WorkerProcess> process(new WorkerProcess());
  process->state_ = state;
  PB_RETURN_IF_ERROR(state->Begin(
      {std::move(child.stdout_read), std::move(child.stderr_read), std::move(child.events_read)}));
  return process;
}

WorkerProcess::~WorkerProcess() {
  if (!state_) return;
  State& s = *state_;
  s.alive = false;
  // Until on_exit the process group is ours: the leader is unreaped (its pid cannot be
  // reused) or was reaped under 2 s ago and members still hold our pipes.
  if (!s.finished) s.KillGroup(SIGKILL);
  for (auto& stream : s.streams) s.CloseStream(*stream);
  s.kill_timer.cancel();
  s.drain_timer.cancel();
  // An unreaped child is still collected by the SIGCHLD/poll handlers (no zombie); they
  // hold the State and stop once waitpid has returned it.
  s.ReleaseCallbacksLater();
}

void WorkerProcess::RequestStop(std::chrono::milliseconds grace) {
  if (state_->reaped) return;
  state_->KillGroup(SIGTERM);
  state_->kill_timer.expires_after(grace);
  state_->kill_timer.async_wait([self = state_](const error_code& ec) {
    if (!ec && !self->reaped) self->KillGroup(SIGKILL);
  });
}

void WorkerProcess::Kill() {
  if (!state_->reaped) state_->KillGroup(SIGKILL);
}

pid_t WorkerProcess::pid() const { return state_->pid; }

bool WorkerProcess::exited() const { return state_->reaped; }

}  // namespace petabox::daemon
