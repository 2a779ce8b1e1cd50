#include "daemon/config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace petabox::daemon {
namespace {

::testing::AssertionResult FailsWith(const std::string& yaml, const std::string& part) {
  auto config = ParseDaemonConfig(yaml, "test.yaml");
  if (config.ok()) return ::testing::AssertionFailure() << "accepted: " << yaml;
  if (config.status().code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "code " << config.status().ToString();
  }
  if (config.status().message().find(part) == std::string::npos) {
    return ::testing::AssertionFailure() << "'" << config.status().message() << "' lacks '" << part << "'";
  }
  return ::testing::AssertionSuccess();
}

TEST(DaemonConfig, BuiltInDefaultParsesToTheStructDefaults) {
  auto config = ParseDaemonConfig(kDefaultConfigYaml, "default");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const DaemonConfig defaults;
  EXPECT_EQ(config->listen, defaults.listen);
  EXPECT_EQ(config->http_listen, defaults.http_listen);
  EXPECT_EQ(config->data_dir, "");
  EXPECT_TRUE(config->devices.empty());
  EXPECT_EQ(config->dataset_dirs, defaults.dataset_dirs);
  EXPECT_FALSE(config->allow_insecure_remote);
  EXPECT_EQ(config->limits.max_dataset_bytes, defaults.limits.max_dataset_bytes);
  EXPECT_EQ(config->limits.max_queued_jobs, defaults.limits.max_queued_jobs);
  EXPECT_EQ(config->workers.stop_grace_seconds, defaults.workers.stop_grace_seconds);
  EXPECT_EQ(config->workers.checkpoint_interval_steps, defaults.workers.checkpoint_interval_steps);
}

TEST(DaemonConfig, KeysOverrideDefaults) {
  auto config = ParseDaemonConfig(
      "listen: 0.0.0.0:9000\nallow_insecure_remote: true\ndevices: [CPU:0, CPU:1]\n"
      "limits: {max_queued_jobs: 5}\nworkers: {stop_grace_seconds: 2.5}\n",
      "t");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen, "0.0.0.0:9000");
  EXPECT_EQ(config->devices, (std::vector<std::string>{"CPU:0", "CPU:1"}));
  EXPECT_EQ(config->limits.max_queued_jobs, 5);
  EXPECT_DOUBLE_EQ(config->workers.stop_grace_seconds, 2.5);
}

TEST(DaemonConfig, BadValuesNameTheKey) {
  EXPECT_TRUE(FailsWith("listen: 0.0.0.0:7480\n", "listen: '0.0.0.0:7480' is not a loopback address"));
  EXPECT_TRUE(FailsWith("listen: nonsense\n", "listen: 'nonsense' is not HOST:PORT"));
  EXPECT_TRUE(FailsWith("listen: 127.0.0.1:99999\n", "listen: '127.0.0.1:99999': port must be <= 65535"));
  EXPECT_TRUE(FailsWith("http_listen: localhost:x\n", "http_listen"));
  EXPECT_TRUE(FailsWith("tls: {cert: /a.pem}\n", "tls: set both cert and key"));
  EXPECT_TRUE(FailsWith("dataset_dirs: [relative/dir]\n", "dataset_dirs[0]: must be an absolute path"));
  EXPECT_TRUE(FailsWith("limits: {max_dataset_bytes: 0}\n", "limits.max_dataset_bytes: must be > 0"));
  EXPECT_TRUE(FailsWith("limits: {max_graph_bytes: 0}\n", "limits.max_graph_bytes: must be in 1..1073741824"));
  EXPECT_TRUE(FailsWith("limits: {max_graph_bytes: 2147483648}\n", "limits.max_graph_bytes"));
  EXPECT_TRUE(FailsWith("limits: {max_spec_bytes: 100000000}\n", "limits.max_spec_bytes"));
  EXPECT_TRUE(FailsWith("workers: {stop_grace_seconds: -1}\n", "workers.stop_grace_seconds"));
  EXPECT_TRUE(FailsWith("lisen: 127.0.0.1:1\n", "lisen: unknown key"));
  EXPECT_TRUE(FailsWith("limits: {max_queued_jobs: lots}\n", "limits.max_queued_jobs"));
  EXPECT_TRUE(FailsWith("listen: [\n", "line"));
  // The error says where the value is.
  EXPECT_TRUE(FailsWith("devices: []\nlimits:\n  max_spec_bytes: -4\n", "(line 3"));
}

TEST(DaemonConfig, TlsAllowsARemoteListenAddress) {
  EXPECT_TRUE(ParseDaemonConfig("listen: 10.0.0.5:7480\ntls: {cert: /c.pem, key: /k.pem}\n", "t").ok());
  EXPECT_TRUE(ParseDaemonConfig("listen: '[::1]:7480'\n", "t").ok());
}

TEST(DaemonConfig, HostPortAndLoopback) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort("[::1]:80", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 80);
  EXPECT_TRUE(IsLoopbackHost("127.3.4.5"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(SplitHostPort(":80", &host, &port).ok());
}

TEST(DaemonConfig, DefaultDataDirFollowsXdg) {
  const char* old = std::getenv("XDG_DATA_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_DATA_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(DefaultDataDir(), "/tmp/xdg-test/petabox");
  ::unsetenv("XDG_DATA_HOME");
  EXPECT_NE(DefaultDataDir().find("/.local/share/petabox"), std::string::npos);
  if (old) ::setenv("XDG_DATA_HOME", saved.c_str(), 1);
}

}  // namespace
}  // namespace petabox::daemon
