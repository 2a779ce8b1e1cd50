#include "client/lib/cli_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

class CliConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petabox-config-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& text) {
    std::string path = (dir_ / "cli.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
};

TEST_F(CliConfigTest, DefaultPath) {
  ClientEnv env;
  env.home = "/home/u";
  EXPECT_EQ(DefaultCliConfigPath(env), "/home/u/.config/petabox/cli.yaml");
  env.xdg_config_home = "/cfg";
  EXPECT_EQ(DefaultCliConfigPath(env), "/cfg/petabox/cli.yaml");
  EXPECT_EQ(DefaultCliConfigPath(ClientEnv{}), "");
}

TEST_F(CliConfigTest, MissingFileIsEmpty) {
  StatusOr<CliConfig> config = LoadCliConfig((dir_ / "none.yaml").string());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->server, "");
  EXPECT_EQ(config->path, "");
  EXPECT_TRUE(LoadCliConfig("").ok());
}

TEST_F(CliConfigTest, ReadsKeysAndResolvesRelativeCa) {
  std::string path = Write("server: box:7480\ntoken: t0k\ntls_ca: ca.pem\n");
  StatusOr<CliConfig> config = LoadCliConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "box:7480");
  EXPECT_EQ(config->token, "t0k");
  EXPECT_EQ(config->tls_ca, (dir_ / "ca.pem").string());
  EXPECT_EQ(config->path, path);
}

TEST_F(CliConfigTest, AbsoluteCaKept) {
  StatusOr<CliConfig> config = LoadCliConfig(Write("tls_ca: /etc/ca.pem\n"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->tls_ca, "/etc/ca.pem");
}

TEST_F(CliConfigTest, EmptyFileIsEmptyConfig) { EXPECT_TRUE(LoadCliConfig(Write("")).ok()); }

TEST_F(CliConfigTest, UnknownKeyNamed) {
  StatusOr<CliConfig> config = LoadCliConfig(Write("sever: box:7480\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("'sever'"), std::string::npos);
}

TEST_F(CliConfigTest, MalformedAndNonScalar) {
  EXPECT_FALSE(LoadCliConfig(Write("server: [unclosed\n")).ok());
  EXPECT_FALSE(LoadCliConfig(Write("- a\n- b\n")).ok());
  StatusOr<CliConfig> config = LoadCliConfig(Write("token: {a: 1}\n"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("'token'"), std::string::npos);
}

}  // namespace
}  // namespace petabox::client
