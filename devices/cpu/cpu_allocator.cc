#include "devices/cpu/cpu_allocator.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

namespace petabox {

CpuAllocator::CpuAllocator(std::string device_name, int64_t limit_bytes)
    : device_name_(std::move(device_name)), limit_bytes_(limit_bytes) {}

bool CpuAllocator::Reserve(int64_t bytes) {
  if (limit_bytes_ <= 0) {
    bytes_in_use_.fetch_add(bytes);
    return true;
  }
  // Compare-and-swap so that concurrent Allocs can never jointly overshoot the limit.
  int64_t in_use = bytes_in_use_.load();
  do {
    if (bytes > limit_bytes_ - in_use) return false;
  } while (!bytes_in_use_.compare_exchange_weak(in_use, in_use + bytes));
  return true;
}

Status CpuAllocator::OutOfMemory(size_t requested, const char* reason) const {
  std::string message = device_name_ + " out of memory: requested " +
                        std::to_string(requested) + " bytes, in use " +
                        std::to_string(BytesInUse());
  if (limit_bytes_ > 0) message += " of limit " + std::to_string(limit_bytes_);
  if (reason != nullptr) message += std::string(" (") + reason + ")";
  return ResourceExhausted(std::move(message));
}

StatusOr<void*> CpuAllocator::Alloc(size_t bytes) {
  if (bytes > static_cast<size_t>(std::numeric_limits<int64_t>::max())) {
    return OutOfMemory(bytes, "request too large");
  }
  const int64_t size = static_cast<int64_t>(bytes);
  if (!Reserve(size)) return OutOfMemory(bytes, nullptr);
  void* ptr = nullptr;
  // posix_memalign accepts any size (unlike aligned_alloc); ask for >= 1 byte so a
  // zero-byte buffer is still a unique, freeable pointer.
  if (posix_memalign(&ptr, kAlignment, bytes == 0 ? 1 : bytes) != 0) {
    bytes_in_use_.fetch_sub(size);
    return OutOfMemory(bytes, "host allocation failed");
  }
  return ptr;
}

void CpuAllocator::Free(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  std::free(ptr);
  bytes_in_use_.fetch_sub(static_cast<int64_t>(bytes));
}

Status CpuAllocator::CopyIn(void* dst, const void* host_src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, host_src, bytes);
  return Status::Ok();
}

Status CpuAllocator::CopyOut(void* host_dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(host_dst, src, bytes);
  return Status::Ok();
}

}  // namespace petabox
