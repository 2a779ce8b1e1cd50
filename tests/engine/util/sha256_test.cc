#include "engine/util/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace petabox {
namespace {

// Vectors from NIST's "SHA-256 examples" (FIPS 180-4 validation).
TEST(Sha256Test, EmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlockMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, OneMillionAsIncrementally) {
  Sha256 hash;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) hash.Update(chunk);
  EXPECT_EQ(hash.HexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, UnalignedUpdatesMatchOneShot) {
  std::string message;
  for (int i = 0; i < 300; ++i) message.push_back(static_cast<char>(i * 7));
  Sha256 hash;
  for (size_t pos = 0, step = 1; pos < message.size(); pos += step, step = step % 13 + 1) {
    hash.Update(std::string_view(message).substr(pos, step));
  }
  EXPECT_EQ(hash.HexDigest(), Sha256Hex(message));
}

}  // namespace
}  // namespace petabox
