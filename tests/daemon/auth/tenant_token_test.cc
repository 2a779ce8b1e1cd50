// Tenant tokens: 256 random bits, stored as their SHA-256; tenant names.
#include "daemon/auth/tenant_token.h"

#include <gtest/gtest.h>

#include <bitset>
#include <set>

#include "engine/util/sha256.h"

namespace petabox::daemon {
namespace {

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

TEST(TenantTokenTest, TokensArePrefixedHexOf256RandomBits) {
  std::set<std::string> seen;
  int ones = 0;
  constexpr int kTokens = 200;
  for (int i = 0; i < kTokens; ++i) {
    StatusOr<std::string> token = NewTenantToken();
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    ASSERT_EQ(token->size(), 4u + 64u);
    ASSERT_EQ(token->rfind("pbt_", 0), 0u);
    for (char c : token->substr(4)) {
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << *token;
      ones += static_cast<int>(std::bitset<4>(HexValue(c)).count());
    }
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTokens));
  // 51200 random bits: half are ones, within 6 standard deviations (sigma = 113).
  EXPECT_NEAR(ones, kTokens * 128, 6 * 113);
}

TEST(TenantTokenTest, StoredHashIsSha256AndVerifiesOnlyItsToken) {
  const std::string token = NewTenantToken().value();
  const std::string other = NewTenantToken().value();
  const std::string hash = HashTenantToken(token);
  EXPECT_EQ(hash, Sha256Hex(token));
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find(token.substr(4, 16)), std::string::npos);
  EXPECT_EQ(HashTenantToken(token), hash);  // verification: the same token, the same hash
  EXPECT_NE(HashTenantToken(other), hash);
  std::string flipped = token;
  flipped.back() = flipped.back() == 'a' ? 'b' : 'a';
  EXPECT_NE(HashTenantToken(flipped), hash);
}

TEST(TenantTokenTest, TenantNames) {
  for (const char* good : {"alice", "a", "team-7", "x1234567890123456789012345678901"}) {
    EXPECT_TRUE(ValidateTenantName(good).ok()) << good;
  }
  for (const char* bad : {"", "owner", "Alice", "7up", "-a", "a_b", "a/b", "x12345678901234567890123456789012"}) {
    Status s = ValidateTenantName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("tenant name"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace petabox::daemon
