// Daemon::Run's error paths: a busy HTTP or gRPC address and unreadable TLS files each make
// Run return its error after stopping what had started (the loop threads, the gRPC
// server), and the data directory can be opened again at once.
#include "daemon/server/daemon.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::Contains;

// A TCP socket listening on a free loopback port (without SO_REUSEPORT, so nobody else can
// bind the port while it lives).
class BusyPort {
 public:
  BusyPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;

  // "127.0.0.1:PORT"; port 0 when the socket could not be set up.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

DaemonConfig TestConfig(const std::string& data_dir) {
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.http_listen = "127.0.0.1:0";
  config.data_dir = data_dir;
  config.devices = {"CPU:0"};
  config.workers.binary = PETABOX_WORKER_BINARY;
  config.telemetry.interval_seconds = 0.2;
  return config;
}

// Creates a daemon from `config` and runs it; the Status Run returned.
Status CreateAndRun(const DaemonConfig& config) {
  StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Create(config);
  EXPECT_TRUE(daemon.ok()) << daemon.status().ToString();
  if (!daemon.ok()) return daemon.status();
  return (*daemon)->Run();
}

TEST(DaemonRunTest, BusyHttpAddressStopsTheStart) {
  testutil::TempDir dir;
  BusyPort busy;
  ASSERT_NE(busy.port(), 0);
  DaemonConfig config = TestConfig(dir.path());
  config.http_listen = busy.address();
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second start finds everything closed
    Status run = CreateAndRun(config);
    EXPECT_EQ(run.code(), StatusCode::kUnavailable) << run.ToString();
  }
}

TEST(DaemonRunTest, BusyGrpcAddressStopsTheStart) {
  testutil::TempDir dir;
  BusyPort busy;
  ASSERT_NE(busy.port(), 0);
  DaemonConfig config = TestConfig(dir.path());
  config.listen = busy.address();
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status run = CreateAndRun(config);
    EXPECT_EQ(run.code(), StatusCode::kUnavailable) << run.ToString();
    EXPECT_TRUE(Contains(run.message(), "cannot serve gRPC on " + busy.address()));
  }
}

TEST(DaemonRunTest, UnreadableTlsFilesStopTheStart) {
  testutil::TempDir dir;
  DaemonConfig config = TestConfig(dir.path());
  config.tls.cert = dir.path() + "/missing-cert.pem";
  config.tls.key = dir.path() + "/missing-key.pem";
  Status run = CreateAndRun(config);
  EXPECT_EQ(run.code(), StatusCode::kNotFound) << run.ToString();
  EXPECT_TRUE(Contains(run.message(), "tls: cannot read " + config.tls.cert));
}

}  // namespace
}  // namespace petabox::daemon
