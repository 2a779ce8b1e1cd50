// SpawnChild without the supervisor: start failures and their statuses, the environment,
// and the descriptors the child gets (0..3 only). The tests read the pipes and reap the
// child themselves.
#include "daemon/supervisor/spawn.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace petabox::daemon {
namespace {

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

// Everything the child writes to `fd` until EOF (the read end is non-blocking).
std::string ReadToEnd(const UniqueFd& fd) {
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return out + "<timeout>";
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n == 0) return out;
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (errno != EAGAIN && errno != EINTR) return out + "<error>";
  }
}

int Reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class SpawnTest : public ::testing::Test {
 protected:
  std::string TempFile(const std::string& name, const std::string& content, mode_t mode) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / ("pbspawn_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::create_directories(dir_);
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(SpawnTest, PipesForStdoutStderrAndEvents) {
  auto child = SpawnChild(Sh("echo out; echo err >&2; printf ev >&3; exit 6"), {});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_GT(child->pid, 0);
  EXPECT_EQ(ReadToEnd(child->stdout_read), "out\n");
  EXPECT_EQ(ReadToEnd(child->stderr_read), "err\n");
  EXPECT_EQ(ReadToEnd(child->events_read), "ev");
  EXPECT_EQ(Reap(child->pid), 6);
}

TEST_F(SpawnTest, MissingExecutableIsNotFound) {
  auto child = SpawnChild({"/nonexistent/petabox-worker", "--x"}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kNotFound);
  EXPECT_NE(child.status().message().find("/nonexistent/petabox-worker"), std::string::npos);
}

TEST_F(SpawnTest, NonExecutableFileIsNotFound) {
  const std::string path = TempFile("plain", "#!/bin/sh\necho hi\n", 0644);
  auto child = SpawnChild({path}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kNotFound);
}

TEST_F(SpawnTest, DirectoryIsNotFound) {
  auto child = SpawnChild({"/tmp"}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kNotFound);
}

TEST_F(SpawnTest, ExecFailureIsUnavailableWithErrnoText) {
  // Executable bits but no valid format and no #!: execve fails with ENOEXEC.
  const std::string path = TempFile("garbage", std::string("\x7f\x01\x02garbage", 10), 0755);
  auto child = SpawnChild({path}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(child.status().message().find("Exec format error"), std::string::npos) << child.status().message();
}

TEST_F(SpawnTest, EmptyArgvIsInvalid) {
  auto child = SpawnChild({}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SpawnTest, EnvOverridesAndAdds) {
  ::setenv("PB_SUP_INHERITED", "from-daemon", 1);
  ::setenv("PB_SUP_OVERRIDDEN", "old", 1);
  auto child = SpawnChild(Sh("echo \"$PB_SUP_INHERITED|$PB_SUP_OVERRIDDEN|$PB_SUP_NEW|$PB_SUP_TWICE\"; "
                             "env | grep -c '^PB_SUP_OVERRIDDEN='"),
                          {"PB_SUP_OVERRIDDEN=new", "PB_SUP_NEW=a=b", "PB_SUP_TWICE=1", "PB_SUP_TWICE=2"});
  ::unsetenv("PB_SUP_INHERITED");
  ::unsetenv("PB_SUP_OVERRIDDEN");
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(ReadToEnd(child->stdout_read), "from-daemon|new|a=b|2\n1\n");
  EXPECT_EQ(Reap(child->pid), 0);
}

TEST_F(SpawnTest, OnlyFdsZeroToThreeAreInherited) {
  // A descriptor the daemon opened without O_CLOEXEC must not reach the child.
  const int dev_null = ::open("/dev/null", O_RDONLY);
  const int leaky = ::fcntl(dev_null, F_DUPFD, 20);  // F_DUPFD leaves FD_CLOEXEC off
  ::close(dev_null);
  ASSERT_GE(leaky, 20);
  auto child = SpawnChild(Sh("for i in 0 1 2 3 " + std::to_string(leaky) +
                             "; do [ -e /proc/$$/fd/$i ] && echo $i; done; exit 0"),
                          {});
  ::close(leaky);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(ReadToEnd(child->stdout_read), "0\n1\n2\n3\n");
  EXPECT_EQ(Reap(child->pid), 0);
}

}  // namespace
}  // namespace petabox::daemon
