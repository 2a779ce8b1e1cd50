#include "client/lib/settings.h"

#include <gtest/gtest.h>

namespace petabox::client {
namespace {

TEST(Settings, ServerPrecedence) {
  ClientEnv env;
  CliConfig config;
  EXPECT_EQ(ResolveServer("", env, config), "127.0.0.1:7480");
  config.server = "config:1";
  EXPECT_EQ(ResolveServer("", env, config), "config:1");
  env.petabox_server = "env:2";
  EXPECT_EQ(ResolveServer("", env, config), "env:2");
  EXPECT_EQ(ResolveServer("flag:3", env, config), "flag:3");
}

TEST(Settings, TlsCaFlagThenConfig) {
  ClientFlags flags;
  CliConfig config;
  config.tls_ca = "/config/ca.pem";
  StatusOr<ClientSettings> settings = ResolveSettings(flags, ClientEnv{}, config);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->tls_ca, "/config/ca.pem");
  flags.tls_ca = "/flag/ca.pem";
  EXPECT_EQ(ResolveSettings(flags, ClientEnv{}, config)->tls_ca, "/flag/ca.pem");
}

TEST(Settings, TokenFollowsTheResolvedServer) {
  ClientFlags flags;
  flags.token = "t";
  flags.server = "box:7480";
  StatusOr<ClientSettings> settings = ResolveSettings(flags, ClientEnv{}, CliConfig{});
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->server, "box:7480");
  EXPECT_EQ(settings->token.value, "t");
  EXPECT_EQ(settings->token.source, TokenSource::kFlag);
}

}  // namespace
}  // namespace petabox::client
