#include "devices/cpu/cpu_compiler.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include "engine/util/sha256.h"

extern char** environ;

namespace petabox {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes the current descriptor and takes ownership of `fd`.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Unlinks a path on destruction unless Release()d, so no exit path leaves temp files.
class ScopedUnlink {
 public:
  explicit ScopedUnlink(std::string path) : path_(std::move(path)) {}
  ~ScopedUnlink() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  ScopedUnlink(const ScopedUnlink&) = delete;
  ScopedUnlink& operator=(const ScopedUnlink&) = delete;
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// Creates a new file <dir>/<stem>-XXXXXX<suffix> with a unique name and returns its path.
// The descriptor is close-on-exec so compilers spawned by other threads never inherit it.
StatusOr<std::string> CreateTempFile(const std::string& dir, const std::string& stem,
                                     const std::string& suffix, UniqueFd* fd) {
  std::string path = dir + "/" + stem + "-XXXXXX" + suffix;
  int raw = ::mkostemps(path.data(), static_cast<int>(suffix.size()), O_CLOEXEC);
  if (raw < 0) return Internal("cannot create temp file in '" + dir + "': " + ErrnoText(errno));
  fd->Reset(raw);
  return path;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal("cannot write '" + path + "': " + ErrnoText(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

// How a child process ended, with everything it wrote to stdout and stderr.
struct ProcessResult {
  bool exited = false;  // true: exit_code is valid; false: killed by signal `signal`
  int exit_code = 0;
  int signal = 0;
  std::string output;
};

int WaitForChild(pid_t pid) {
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  return wait_status;
}

// Spawns argv[0] (searched on PATH) with stdin from /dev/null and stdout and stderr both
// into a pipe, without a shell, and waits for it.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Internal("pipe2: " + ErrnoText(errno));
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> c_argv;
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return Unavailable("cannot run C compiler '" + argv[0] + "': " + ErrnoText(err));

  write_end.Reset();  // so that read() sees EOF once the child exits
  ProcessResult result;
  result.output = ReadAll(read_end.get());
  int wait_status = WaitForChild(pid);
  result.exited = WIFEXITED(wait_status);
  result.exit_code = result.exited ? WEXITSTATUS(wait_status) : 0;
  result.signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  return result;
}

Status CompileFailure(const ProcessResult& result, const std::string& source) {
  std::string how = result.exited ? "exit " + std::to_string(result.exit_code)
                                  : "signal " + std::to_string(result.signal);
  return InvalidArgument("C compiler failed (" + how + "):\n" + result.output +
                         "\n--- source ---\n" + source);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status EnsureDirectory(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Internal("cannot create kernel cache '" + dir + "': " + error.message());
  return Status::Ok();
}

CpuCompilerOptions ResolveOptions(CpuCompilerOptions options) {
  if (options.cache_dir.empty()) options.cache_dir = DefaultCacheDir();
  return options;
}

}  // namespace

std::string DefaultCacheDir() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value == nullptr ? "" : value;
  };
  if (std::string dir = env("PETABOX_CACHE_DIR"); !dir.empty()) return dir;
  if (std::string dir = env("XDG_CACHE_HOME"); !dir.empty()) return dir + "/petabox";
  if (std::string dir = env("HOME"); !dir.empty()) return dir + "/.cache/petabox";
  return "/tmp/petabox-cache";
}

CpuCompiler::CpuCompiler(CpuCompilerOptions options)
    : options_(ResolveOptions(std::move(options))),
      kernel_dir_(options_.cache_dir + "/kernels") {}

// The host CPU's model and feature flags: -march=native output is only valid on the same
// kind of CPU, so a cache shared between machines must not mix them.
static const std::string& HostCpuId() {
  static const std::string* id = [] {
    auto* s = new std::string();
    FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return s;
    char line[8192];
    while (std::fgets(line, sizeof(line), f)) {
      std::string l(line);
      if (l.rfind("model name", 0) == 0 || l.rfind("flags", 0) == 0) *s += l;
      if (l == "\n" && !s->empty()) break;  // the first processor's block is enough
    }
    std::fclose(f);
    return s;
  }();
  return *id;
}

std::string CpuCompiler::CacheKey(const std::string& source) const {
  // NUL separators keep ("a", "bc") and ("ab", "c") from hashing alike.
  Sha256 hash;
  hash.Update(HostCpuId());
  hash.Update(std::string_view("\0", 1));
  hash.Update(options_.cc);
  for (const std::string& flag : options_.flags) {
    hash.Update(std::string_view("\0", 1));
    hash.Update(flag);
  }
  hash.Update(std::string_view("\0\0", 2));
  hash.Update(source);
  return hash.HexDigest();
}

std::string CpuCompiler::version() const {
  std::call_once(version_once_, [this] {
    StatusOr<ProcessResult> run = RunProcess({options_.cc, "--version"});
    std::string id = run.ok() ? run->output.substr(0, run->output.find('\n')) : "unknown " + options_.cc;
    for (const std::string& flag : options_.flags) id += " " + flag;
    Sha256 cpu;
    cpu.Update(HostCpuId());
    version_ = id + " cpu:" + cpu.HexDigest().substr(0, 16);
  });
  return version_;
}

StatusOr<std::string> CpuCompiler::Compile(const std::string& source) {
  const std::string key = CacheKey(source);
  std::string so_path = kernel_dir_ + "/" + key + ".so";
  if (FileExists(so_path)) {
    cache_hits_.fetch_add(1);
    return so_path;
  }
  PB_RETURN_IF_ERROR(CompileTo(source, key, so_path));
  return so_path;
}

Status CpuCompiler::CompileTo(const std::string& source, const std::string& key,
                              const std::string& so_path) {
  PB_RETURN_IF_ERROR(EnsureDirectory(kernel_dir_));
  UniqueFd source_fd, out_fd;
  PB_ASSIGN_OR_RETURN(std::string source_path, CreateTempFile(kernel_dir_, key, ".c", &source_fd));
  ScopedUnlink remove_source(source_path);
  PB_RETURN_IF_ERROR(WriteAll(source_fd.get(), source, source_path));
  source_fd.Reset();
  // The compiler writes to a unique name; only a complete object is renamed into place.
  PB_ASSIGN_OR_RETURN(std::string out_path, CreateTempFile(kernel_dir_, key, ".so.tmp", &out_fd));
  ScopedUnlink remove_out(out_path);
  out_fd.Reset();

  std::vector<std::string> argv = {options_.cc};
  argv.insert(argv.end(), options_.flags.begin(), options_.flags.end());
  argv.insert(argv.end(), {"-o", out_path, source_path});
  compiles_.fetch_add(1);
  PB_ASSIGN_OR_RETURN(ProcessResult result, RunProcess(argv));
  if (!result.exited || result.exit_code != 0) return CompileFailure(result, source);
  if (::rename(out_path.c_str(), so_path.c_str()) != 0) {
    return Internal("cannot rename '" + out_path + "' to '" + so_path + "': " + ErrnoText(errno));
  }
  remove_out.Release();
  return Status::Ok();
}

}  // namespace petabox
