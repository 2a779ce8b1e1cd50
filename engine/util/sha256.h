// SHA-256 (FIPS 180-4): content hashes for cache keys (compiled kernels, graphs).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace petabox {

// Incremental SHA-256. Feed bytes with Update(), then read the digest once with
// HexDigest(); after that the object must not be updated again. Not thread-safe: one
// instance per thread.
class Sha256 {
 public:
  Sha256();

  // Appends `data` to the message.
  void Update(std::string_view data);
  // Finishes the message and returns its 64-character lowercase hex digest.
  std::string HexDigest();

 private:
  void ProcessBlock(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffer_len_ = 0;     // bytes pending in buffer_
  uint64_t total_bytes_ = 0;  // message length so far
};

// Returns the lowercase hex SHA-256 digest of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace petabox
