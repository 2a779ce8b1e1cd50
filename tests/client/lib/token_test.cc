#include "client/lib/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, standing in for HOME.
class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() /
            ("petabox-token-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
    env_.home = home_.string();
  }
  void TearDown() override {
    fs::permissions(home_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(home_);
  }

  // Writes DIR/owner.token.
  static void WriteOwnerToken(const fs::path& dir, const std::string& text) {
    fs::create_directories(dir);
    std::ofstream(dir / "owner.token") << text;
  }

  fs::path home_;
  ClientEnv env_;
};

TEST_F(TokenTest, FlagSource) {
  EXPECT_FALSE(TokenFromFlag("").has_value());
  auto token = TokenFromFlag("abc");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->value, "abc");
  EXPECT_EQ(token->source, TokenSource::kFlag);
}

TEST_F(TokenTest, EnvSource) {
  EXPECT_FALSE(TokenFromEnv(env_).has_value());
  env_.petabox_token = "from-env";
  EXPECT_EQ(TokenFromEnv(env_)->value, "from-env");
  EXPECT_EQ(TokenFromEnv(env_)->source, TokenSource::kEnv);
}

TEST_F(TokenTest, ConfigSource) {
  CliConfig config;
  EXPECT_FALSE(TokenFromConfig(config).has_value());
  config.path = "/x/cli.yaml";
  config.token = "from-config";
  EXPECT_EQ(TokenFromConfig(config)->value, "from-config");
  EXPECT_EQ(TokenFromConfig(config)->origin, "/x/cli.yaml");
}

TEST_F(TokenTest, DefaultDataDirPrefersXdg) {
  EXPECT_EQ(DefaultDataDir(env_), home_.string() + "/.local/share/petabox");
  env_.xdg_data_home = "/xdg/data";
  EXPECT_EQ(DefaultDataDir(env_), "/xdg/data/petabox");
  EXPECT_EQ(DefaultDataDir(ClientEnv{}), "");
}

TEST_F(TokenTest, LoopbackAddresses) {
  for (const char* server : {"127.0.0.1:7480", "127.1.2.3:1", "localhost:7480", "LOCALHOST", "[::1]:7480", "::1",
                             "dns:///localhost:7480", "ipv4:127.0.0.1:7480", "127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackServer(server)) << server;
  }
  for (const char* server : {"10.0.0.1:7480", "box.example.com:7480", "[2001:db8::1]:7480", "128.0.0.1:7480",
                             "localhost.example.com:1", ""}) {
    EXPECT_FALSE(IsLoopbackServer(server)) << server;
  }
}

TEST_F(TokenTest, OwnerFileOnlyForLoopback) {
  WriteOwnerToken(home_ / "data", "  owner-secret\n");
  auto local = TokenFromOwnerFile("127.0.0.1:7480", (home_ / "data").string());
  ASSERT_TRUE(local.ok());
  ASSERT_TRUE(local->has_value());
  EXPECT_EQ((*local)->value, "owner-secret");
  EXPECT_EQ((*local)->source, TokenSource::kOwnerFile);
  auto remote = TokenFromOwnerFile("box.example.com:7480", (home_ / "data").string());
  ASSERT_TRUE(remote.ok());
  EXPECT_FALSE(remote->has_value());
}

TEST_F(TokenTest, OwnerFileMissingOrEmptyIsNoToken) {
  auto missing = TokenFromOwnerFile("localhost:7480", (home_ / "nowhere").string());
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  WriteOwnerToken(home_ / "empty", "\n");
  auto empty = TokenFromOwnerFile("localhost:7480", (home_ / "empty").string());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST_F(TokenTest, OwnerFileUnreadableIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  WriteOwnerToken(home_ / "data", "secret");
  fs::permissions(home_ / "data" / "owner.token", fs::perms::none);
  auto token = TokenFromOwnerFile("127.0.0.1:7480", (home_ / "data").string());
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("owner.token"), std::string::npos);
}

TEST_F(TokenTest, OwnerFileThatIsNotAFileIsAnError) {
  fs::create_directories(home_ / "data" / "owner.token");
  auto token = TokenFromOwnerFile("127.0.0.1:7480", (home_ / "data").string());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(token.status().message().find("not a regular file"), std::string::npos);
}

TEST_F(TokenTest, DiscoveryOrder) {
  // Default data dir under the temp HOME holds an owner token.
  WriteOwnerToken(home_ / ".local/share/petabox", "owner");
  CliConfig config;
  config.token = "config";
  env_.petabox_token = "env";
  const std::string local = "127.0.0.1:7480";

  EXPECT_EQ(DiscoverToken("flag", env_, config, local, "")->value, "flag");
  EXPECT_EQ(DiscoverToken("", env_, config, local, "")->value, "env");
  env_.petabox_token.clear();
  EXPECT_EQ(DiscoverToken("", env_, config, local, "")->value, "config");
  config.token.clear();
  StatusOr<Token> owner = DiscoverToken("", env_, config, local, "");
  EXPECT_EQ(owner->value, "owner");
  EXPECT_EQ(owner->origin, (home_ / ".local/share/petabox/owner.token").string());
  // Not for a remote server.
  EXPECT_EQ(DiscoverToken("", env_, config, "box:7480", "")->source, TokenSource::kNone);
}

TEST_F(TokenTest, DiscoveryUsesXdgDataHomeAndDataDirFlag) {
  WriteOwnerToken(home_ / "xdg/petabox", "xdg-owner");
  WriteOwnerToken(home_ / "flagdir", "flag-owner");
  env_.xdg_data_home = (home_ / "xdg").string();
  EXPECT_EQ(DiscoverToken("", env_, CliConfig{}, "localhost:7480", "")->value, "xdg-owner");
  EXPECT_EQ(DiscoverToken("", env_, CliConfig{}, "localhost:7480", (home_ / "flagdir").string())->value,
            "flag-owner");
}

TEST_F(TokenTest, Descriptions) {
  EXPECT_EQ(DescribeTokenSource(Token{}), "no token");
  EXPECT_EQ(DescribeTokenSource(Token{"x", TokenSource::kEnv, "PETABOX_TOKEN"}), "PETABOX_TOKEN");
  EXPECT_EQ(DescribeTokenSource(Token{"x", TokenSource::kOwnerFile, "/d/owner.token"}), "owner token /d/owner.token");
}

}  // namespace
}  // namespace petabox::client
