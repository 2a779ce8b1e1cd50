// What an operator sees of petaboxd under systemd: readiness (Type=notify) when it serves,
// STOPPING when it drains, and one log line per job state change (the journal's job history).
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

TEST(DaemonOperationsTest, NotifiesSystemdWhenServingAndWhenDraining) {
  const std::string path = ::testing::TempDir() + "/petaboxd-notify-" + std::to_string(getpid());
  const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  auto receive = [fd] {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : std::string("(nothing within 30 s)");
  };
  setenv("NOTIFY_SOCKET", path.c_str(), 1);  // the daemon inherits it, as from systemd
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(receive().rfind("READY=1\nSTATUS=serving on ", 0), 0u);
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_EQ(receive().rfind("STOPPING=1\n", 0), 0u);
  close(fd);
  unlink(path.c_str());
}

TEST(DaemonOperationsTest, LogsEveryJobStateChange) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const v1::Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 10));
  daemon.WaitForState(job.name(), v1::Job::SUCCEEDED);
  const std::string log = daemon.Log();
  for (const std::string& line : {"new -> QUEUED: submitted", "QUEUED -> STARTING on CPU:0: worker process started",
                                  "STARTING -> RUNNING on CPU:0: training started", "RUNNING -> SUCCEEDED: finished"}) {
    EXPECT_NE(log.find("petaboxd: job " + job.name() + ": " + line), std::string::npos) << line << "\n" << log;
  }
}

// The unit's sandbox, as systemd rates it: "Overall exposure level ... X.Y" below 4.0.
TEST(DaemonOperationsTest, SystemdUnitExposureIsBelowFour) {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze") && !std::filesystem::exists("/bin/systemd-analyze"))
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  const std::string unit = std::string(PETABOX_SOURCE_DIR) + "/deploy/systemd/petaboxd.service";
  FILE* pipe = popen(("systemd-analyze security --offline=true '" + unit + "' 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  pclose(pipe);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("Overall exposure level for petaboxd.service: ([0-9.]+)"))) << out;
  const double score = std::stod(m[1]);
  std::printf("systemd-analyze security: %.1f\n", score);
  EXPECT_LT(score, 4.0) << out;
}

}  // namespace
}  // namespace petabox::daemon::testing
