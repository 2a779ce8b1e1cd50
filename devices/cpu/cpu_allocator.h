// Host memory for the CPU backend.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "devices/device.h"

namespace petabox {

// 64-byte aligned host allocations (one cache line, one AVX-512 register) with an
// optional cap on the bytes in use. Thread-safe: every method may be called from any
// thread.
class CpuAllocator : public Allocator {
 public:
  static constexpr size_t kAlignment = 64;

  // `device_name` appears in error messages. `limit_bytes` caps BytesInUse(); 0 means
  // unlimited.
  CpuAllocator(std::string device_name, int64_t limit_bytes);

  // Returns a 64-byte aligned buffer of at least `bytes` bytes. ResourceExhausted when
  // the allocation would exceed the limit or the host allocation fails.
  StatusOr<void*> Alloc(size_t bytes) override;
  // Releases a buffer from Alloc; `bytes` must be the size it was allocated with.
  void Free(void* ptr, size_t bytes) override;
  // memcpy; always OK.
  Status CopyIn(void* dst, const void* host_src, size_t bytes) override;
  Status CopyOut(void* host_dst, const void* src, size_t bytes) override;
  int64_t BytesInUse() const override { return bytes_in_use_.load(); }

  int64_t limit_bytes() const { return limit_bytes_; }

 private:
  // Adds `bytes` to bytes_in_use_ unless that would pass the limit.
  bool Reserve(int64_t bytes);
  Status OutOfMemory(size_t requested, const char* reason) const;

  const std::string device_name_;
  const int64_t limit_bytes_;
  std::atomic<int64_t> bytes_in_use_{0};
};

}  // namespace petabox
