#include "daemon/auth/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace petabox::daemon {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/pb-token-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(OwnerToken, CreatedOnceWithMode0600AndKept) {
  const std::string dir = TempDir();
  auto first = LoadOrCreateOwnerToken(dir);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/owner.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = LoadOrCreateOwnerToken(dir);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  // Another data dir gets another token.
  auto other = LoadOrCreateOwnerToken(TempDir());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*first, *other);
  std::filesystem::remove_all(dir);
}

TEST(OwnerToken, ReadableByOthersIsRefused) {
  const std::string dir = TempDir();
  ASSERT_TRUE(LoadOrCreateOwnerToken(dir).ok());
  ::chmod((dir + "/owner.token").c_str(), 0644);
  auto token = LoadOrCreateOwnerToken(dir);
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(token.status().message().find("chmod 600"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(OwnerToken, BearerParsingAndComparison) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("bearer abc"), "");
  EXPECT_TRUE(TokensEqual("abc", "abc"));
  EXPECT_FALSE(TokensEqual("abd", "abc"));
  EXPECT_FALSE(TokensEqual("ab", "abc"));
  EXPECT_FALSE(TokensEqual("", ""));
}

}  // namespace
}  // namespace petabox::daemon
