#include "daemon/supervisor/worker_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

extern char** environ;

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
// The child's descriptors: stdin, stdout, stderr and the events pipe.
constexpr int kEventsFd = 3;

std::string ErrnoText(int err) { return strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error"; }

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Moves `fd` above the child's fixed descriptors 0..3 (still close-on-exec): a dup2 onto
// the same number would keep FD_CLOEXEC on some libcs and the child would lose it.
Status MoveAboveChildFds(UniqueFd& fd) {
  if (fd.get() > kEventsFd) return Status::Ok();
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, kEventsFd + 1);
  if (moved < 0) return Unavailable("cannot duplicate a descriptor: " + ErrnoText(errno));
  fd.reset(moved);
  return Status::Ok();
}

// A close-on-exec pipe whose read end (the daemon's) is non-blocking.
StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Unavailable("cannot create a pipe: " + ErrnoText(errno));
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  const int flags = ::fcntl(pipe.read.get(), F_GETFL);
  if (flags < 0 || ::fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Unavailable("cannot make a pipe non-blocking: " + ErrnoText(errno));
  }
  PB_RETURN_IF_ERROR(MoveAboveChildFds(pipe.write));
  return pipe;
}

StatusOr<UniqueFd> OpenDevNull() {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Unavailable("cannot open /dev/null: " + ErrnoText(errno));
  PB_RETURN_IF_ERROR(MoveAboveChildFds(fd));
  return fd;
}

// NotFound unless `path` is a regular file this process may execute. Checked before
// spawning so the common mistake (a wrong path) gets a clear, specific error.
Status CheckExecutable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound("worker executable " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return NotFound("worker executable " + path + " is not a regular file");
  if (::access(path.c_str(), X_OK) != 0) {
    return NotFound("worker executable " + path + " is not executable: " + ErrnoText(errno));
  }
  return Status::Ok();
}

std::string EnvKey(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// The daemon's environment with `overrides` replacing (or adding) entries by key; a later
// override of the same key wins.
std::vector<std::string> MergeEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> keys;
  for (const std::string& entry : overrides) keys.push_back(EnvKey(entry));
  auto overridden = [&](const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  std::vector<std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    if (!overridden(EnvKey(entry))) merged.push_back(std::move(entry));
  }
  for (size_t i = 0; i < overrides.size(); ++i) {
    const bool later_wins = std::find(keys.begin() + i + 1, keys.end(), keys[i]) != keys.end();
    if (!later_wins) merged.push_back(overrides[i]);
  }
  return merged;
}

// execve's view of a string vector: pointers into `strings`, null-terminated.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

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

// posix_spawn's attributes and file actions, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawnattr_init(&attr_);
    ::posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child: its own process group, no blocked signals, default dispositions (the
  // daemon may ignore SIGPIPE or have handlers), and only descriptors 0..3 open.
  void Configure(int stdin_fd, int stdout_fd, int stderr_fd, int events_fd) {
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF);
    ::posix_spawnattr_setpgroup(&attr_, 0);
    ::posix_spawnattr_setsigmask(&attr_, &empty);
    ::posix_spawnattr_setsigdefault(&attr_, &all);
    ::posix_spawn_file_actions_adddup2(&actions_, stdin_fd, STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions_, events_fd, kEventsFd);
    // Descriptors another thread opened without O_CLOEXEC must not leak into the job.
    ::posix_spawn_file_actions_addclosefrom_np(&actions_, kEventsFd + 1);
  }
  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

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
  // One pipe from the child: stdout, stderr (log lines) or fd 3 (event lines).
  struct Stream {
    Stream(asio::io_context& io, bool events) : descriptor(io), is_events(events) {}
    asio::posix::stream_descriptor descriptor;
    std::array<char, 4096> buffer;
    std::string partial;  // bytes after the last '\n'
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
  void Deliver(const Stream& stream, const std::string& line);
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
    stream.partial.append(stream.buffer.data(), bytes);
    DeliverLines(stream);
    if (!alive || !stream.open) return;  // a callback destroyed the WorkerProcess
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
    Deliver(stream, stream.partial.substr(start, nl - start));
    // A callback that destroys the WorkerProcess closes the stream; stop touching it.
    if (!alive || !stream.open) return;
  }
  stream.partial.erase(0, start);
  if (stream.partial.size() >= kMaxLineBytes) Deliver(stream, std::exchange(stream.partial, {}));
}

void WorkerProcess::State::Deliver(const Stream& stream, const std::string& line) {
  if (!alive) return;
  const auto& callback = stream.is_events ? callbacks.on_event : callbacks.on_log;
  if (callback) callback(line);
}

// Closes our end; a final line without '\n' is still delivered.
void WorkerProcess::State::CloseStream(Stream& stream) {
  if (!stream.open) return;
  stream.open = false;
  --open_streams;
  error_code ignored;
  stream.descriptor.close(ignored);  // a pending read completes with operation_aborted
  std::string rest = std::exchange(stream.partial, {});
  if (!rest.empty()) Deliver(stream, rest);
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
  if (argv.empty()) return InvalidArgument("worker command line is empty");
  const std::string& path = argv[0];
  PB_RETURN_IF_ERROR(CheckExecutable(path));

  PB_ASSIGN_OR_RETURN(UniqueFd dev_null, OpenDevNull());
  PB_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  PB_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  PB_ASSIGN_OR_RETURN(Pipe events, MakePipe());
  SpawnSetup setup;
  setup.Configure(dev_null.get(), out.write.get(), err.write.get(), events.write.get());
  const std::vector<std::string> environment = MergeEnvironment(env);
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(environment);

  auto state = std::make_shared<State>(io);
  state->callbacks = std::move(callbacks);
  // SIGCHLD is handled before the child exists, so its exit cannot go unnoticed.
  PB_RETURN_IF_ERROR(state->WatchForExit());
  // glibc's posix_spawn forks with CLONE_VFORK and returns the exec's errno: a failed exec
  // is reported here (and the failed child reaped by glibc), no error pipe needed.
  const int rc = ::posix_spawn(&state->pid, path.c_str(), setup.actions(), setup.attr(),
                               c_argv.data(), c_env.data());
  if (rc != 0) {
    const std::string message = "cannot start " + path + ": " + ErrnoText(rc);
    return rc == ENOENT ? NotFound(message) : Unavailable(message);
  }
  // The child has its copies; ours of the write ends must go or EOF never comes.
  out.write.reset();
  err.write.reset();
  events.write.reset();
  std::unique_ptr<WorkerProcess> process(new WorkerProcess());
  process->state_ = state;
  PB_RETURN_IF_ERROR(state->Begin({std::move(out.read), std::move(err.read), std::move(events.read)}));
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
