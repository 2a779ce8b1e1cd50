// Helpers for tests that talk HTTP to petaboxd, Prometheus or a test server, and that run
// outside programs (Prometheus, Chromium) for a bounded time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace petabox::daemon::testing {

struct HttpResult {
  int status = 0;  // 0 when the request failed (no connection, bad answer)
  std::string body;
  std::string error;
};

// GET http://127.0.0.1:<port><target> with Connection: close; 10 s timeout.
HttpResult HttpGet(int port, const std::string& target);

// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& s);

// A child process (argv[0] looked up in PATH), in its own process group, with stderr (and
// stdout, unless `stdout_path` is given) appended to `log`. The destructor kills the group
// (SIGTERM, then SIGKILL after 2 s) and reaps it.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log, const std::string& stdout_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True while it has not exited.
  bool Running();
  // Waits for it to exit by itself; returns its wait status, or -1 after `timeout` (it
  // keeps running then).
  int Wait(std::chrono::milliseconds timeout);
  // SIGTERM to its group, SIGKILL after 2 s; reaps it.
  void Stop();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// The text of a file ("" when unreadable).
std::string ReadFile(const std::string& path);

// True when `program` is an executable in PATH.
bool InPath(const std::string& program);

}  // namespace petabox::daemon::testing
