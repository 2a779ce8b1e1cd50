// Helpers for the store tests: a temporary directory per test, seeded random bytes, and
// substring checks.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace petabox::daemon::testutil {

// A fresh directory made with mkdtemp under /tmp; removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    std::string path = "/tmp/petabox-store-test-XXXXXX";
    if (::mkdtemp(path.data()) != nullptr) path_ = path;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // "" when mkdtemp failed.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `n` pseudo-random bytes; the same seed gives the same bytes.
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

}  // namespace petabox::daemon::testutil
