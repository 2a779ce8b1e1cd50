#include "daemon/supervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

extern char** environ;

namespace petabox::daemon {
namespace {

std::string ErrnoText(int err) { return strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error"; }

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Moves `fd` above the child's fixed descriptors 0..3 (still close-on-exec): a dup2 onto
// the same number would keep FD_CLOEXEC on some libcs and the child would lose it.
Status MoveAboveChildFds(UniqueFd& fd) {
  if (fd.get() > kWorkerEventsFd) return Status::Ok();
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, kWorkerEventsFd + 1);
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

// execve's view of a string vector: pointers into `strings`, null-terminated.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
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
    ::posix_spawn_file_actions_adddup2(&actions_, events_fd, kWorkerEventsFd);
    // Descriptors another thread opened without O_CLOEXEC must not leak into the job.
    ::posix_spawn_file_actions_addclosefrom_np(&actions_, kWorkerEventsFd + 1);
  }
  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace

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

StatusOr<SpawnedChild> SpawnChild(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
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

  SpawnedChild child;
  // glibc's posix_spawn forks with CLONE_VFORK and returns the exec's errno: a failed exec
  // is reported here (and the failed child reaped by glibc), no error pipe needed.
  const int rc = ::posix_spawn(&child.pid, path.c_str(), setup.actions(), setup.attr(), c_argv.data(), c_env.data());
  if (rc != 0) {
    const std::string message = "cannot start " + path + ": " + ErrnoText(rc);
    return rc == ENOENT ? NotFound(message) : Unavailable(message);
  }
  // The child has its copies of the write ends; ours close here, or EOF would never come.
  child.stdout_read = std::move(out.read);
  child.stderr_read = std::move(err.read);
  child.events_read = std::move(events.read);
  return child;
}

}  // namespace petabox::daemon
