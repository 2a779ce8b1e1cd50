// petaboxd's start: configurations it must refuse (with the key named), command-line
// overrides, and TLS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

bool LogHas(const DaemonHarness& d, const std::string& part) { return d.Log().find(part) != std::string::npos; }

TEST(DaemonStartupTest, NonLoopbackWithoutTlsIsRefused) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.set_address("0.0.0.0:" + std::to_string(FreePort()));
  EXPECT_EQ(daemon.StartExpectingExit(), 2);
  EXPECT_TRUE(LogHas(daemon, "listen: '0.0.0.0:")) << daemon.Log();
  EXPECT_TRUE(LogHas(daemon, "allow_insecure_remote")) << daemon.Log();
}

TEST(DaemonStartupTest, BadConfigAndUnknownDeviceNameTheKey) {
  DaemonHarness typo("devices: [CPU:0]\nlimits: {max_queued_job: 3}\n");
  EXPECT_EQ(typo.StartExpectingExit(), 2);
  EXPECT_TRUE(LogHas(typo, "limits.max_queued_job: unknown key")) << typo.Log();
  DaemonHarness device("devices: [CPU:0, TPU:3]\n");
  EXPECT_EQ(device.StartExpectingExit(), 1);
  EXPECT_TRUE(LogHas(device, "devices[1]")) << device.Log();
  DaemonHarness flags("devices: [CPU:0]\n");
  EXPECT_EQ(flags.StartExpectingExit({"--listen", "1.2.3.4:5"}), 2);
  EXPECT_TRUE(LogHas(flags, "command line: INVALID_ARGUMENT: listen")) << flags.Log();
  EXPECT_EQ(flags.StartExpectingExit({"--frobnicate"}), 2);
}

TEST(DaemonStartupTest, ServesOverTlsWhenConfigured) {
  char tmpl[] = "/tmp/pb-tls-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl (Debian package openssl) is needed";
  std::ifstream in(dir + "/cert.pem");
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::string(std::istreambuf_iterator<char>(in), {});
  DaemonHarness daemon("devices: [CPU:0]\ntls: {cert: " + dir + "/cert.pem, key: " + dir + "/key.pem}\n");
  daemon.set_credentials(grpc::SslCredentials(options));
  daemon.Start();
  v1::Box box;
  grpc::Status status = daemon.box().GetBox(daemon.Context().get(), v1::GetBoxRequest(), &box);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(box.devices_size(), 1);
  // A plain-text client cannot talk to it.
  auto plain = v1::BoxService::NewStub(grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  auto context = daemon.Context();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_FALSE(plain->GetBox(context.get(), v1::GetBoxRequest(), &box).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace petabox::daemon::testing
