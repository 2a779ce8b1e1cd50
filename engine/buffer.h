// Buffer: a block of device memory holding `size` elements of `dtype`. Owns its memory
// (freed through the device's allocator). Thread-compatible.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "devices/device.h"
#include "engine/dtype.h"

namespace petabox {

class Buffer {
 public:
  // ResourceExhausted (naming the device and size) when the device is out of memory.
  static StatusOr<std::shared_ptr<Buffer>> Allocate(Device* device, DType dtype, int64_t size);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  Device* device() const { return device_; }
  DType dtype() const { return dtype_; }
  int64_t size() const { return size_; }
  size_t bytes() const { return static_cast<size_t>(size_) * ItemSize(dtype_); }
  void* data() const { return data_; }

  Status CopyIn(const void* host, size_t bytes);
  Status CopyOut(void* host, size_t bytes) const;
  // Bumped whenever the contents are overwritten in place (ASSIGN, host copy-in), so graph
  // nodes over an older version never alias the new contents.
  int64_t version() const { return version_.load(); }
  void BumpVersion() { ++version_; }

 private:
  Buffer(Device* device, DType dtype, int64_t size, void* data)
      : device_(device), dtype_(dtype), size_(size), data_(data) {}

  Device* device_;
  DType dtype_;
  int64_t size_;
  void* data_;
  std::atomic<int64_t> version_{0};
};

}  // namespace petabox
