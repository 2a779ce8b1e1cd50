// NotifySystemd: the datagram systemd's Type=notify expects, to a path or abstract socket.
#include "daemon/server/sd_notify.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace petabox::daemon {
namespace {

// A datagram socket bound to `name` (a path, or "@name" for the abstract namespace).
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), offsetof(sockaddr_un, sun_path) + name.size()) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    if (name_[0] == '/') std::filesystem::remove(name_);
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : "";
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotifyTest, WithoutNotifySocketDoesNothing) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifySystemd("READY=1").ok());
}

TEST(SdNotifyTest, SendsToAPathSocket) {
  const std::string path = ::testing::TempDir() + "/notify-" + std::to_string(getpid());
  NotifySocket socket(path);
  ASSERT_TRUE(socket.bound());
  ASSERT_TRUE(NotifySystemd("READY=1\nSTATUS=serving").ok());
  EXPECT_EQ(socket.Receive(), "READY=1\nSTATUS=serving");
}

TEST(SdNotifyTest, SendsToAnAbstractSocket) {
  NotifySocket socket("@petabox-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(socket.bound());
  ASSERT_TRUE(NotifySystemd("STOPPING=1").ok());
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST(SdNotifyTest, UnreachableOrMalformedSocketIsAnError) {
  setenv("NOTIFY_SOCKET", "/nonexistent/petabox/notify", 1);
  Status s = NotifySystemd("READY=1");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("/nonexistent/petabox/notify"), std::string::npos);
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_EQ(NotifySystemd("READY=1").code(), StatusCode::kInvalidArgument);
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace petabox::daemon
