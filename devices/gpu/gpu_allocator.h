// Device memory for the GPU backend: a caching allocator with pinned staging copies.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "devices/block_cache.h"
#include "devices/device.h"
#include "devices/gpu/gpu_context.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

class GpuDevice;

struct GpuAllocatorOptions {
  // Largest pinned host buffer used to stage CopyIn/CopyOut (at least 1 MiB); larger
  // copies move in chunks of this size. The buffer grows, in 1 MiB steps, as copies need.
  size_t max_staging_bytes = size_t{64} << 20;
};

// Device memory of one GPU, cached: a freed block goes to a free list keyed by its block
// size and is handed out again for a request of the same block size, so a training loop
// that allocates the same shapes every step stops calling mem_alloc (which may also
// synchronize the device). Requests are rounded up to BlockCache block sizes. When the
// driver is out of memory the cache is returned to it and the allocation retried once.
//
// Every Launch and copy of the backend waits for completion, so a freed block is never
// still in use by queued work when it is handed out again.
// Thread-safe: every method may be called from any thread.
class GpuAllocator : public Allocator {
 public:
  // The block size a request of `bytes` is served with (BlockCache::BlockSize).
  static size_t BlockSize(size_t bytes) { return BlockCache::BlockSize(bytes); }

  GpuAllocator(std::shared_ptr<GpuContext> context, GpuAllocatorOptions options);
  // Returns cached blocks and the staging buffer to the driver. Blocks still allocated
  // are left to the context's teardown.
  ~GpuAllocator() override;

  // A block of BlockSize(bytes) bytes, from the cache when one of that size is free.
  // ResourceExhausted("<kind>:<i> out of memory: requested N bytes (free F of T)") when the
  // device has no room even after the cache was released; other driver errors as
  // GpuApi::Check reports them.
  StatusOr<void*> Alloc(size_t bytes) override;
  // Puts the block back in the cache; `bytes` is the size it was allocated with.
  void Free(void* ptr, size_t bytes) override;
  // Host -> device and device -> host, through the pinned staging buffer (pageable memory
  // directly if no pinned memory can be had), waiting for completion.
  Status CopyIn(void* dst, const void* host_src, size_t bytes) override EXCLUDES(staging_mutex_);
  Status CopyOut(void* host_dst, const void* src, size_t bytes) override EXCLUDES(staging_mutex_);
  // Bytes in blocks handed out and not yet freed (block sizes, not request sizes).
  int64_t BytesInUse() const override { return bytes_in_use_.load(); }

  // Bytes held in the cache of free blocks.
  int64_t BytesCached() const { return cache_.bytes_cached(); }
  // Returns every cached block to the driver. Returns the first mem_free error, after
  // trying all blocks.
  Status ReleaseCache();
  // Capacity of the pinned staging buffer now (0 before the first copy, and always 0 when
  // the driver has no pinned host memory).
  size_t staging_bytes() const EXCLUDES(staging_mutex_);

  const GpuContext& context() const { return *context_; }

 private:
  // mem_alloc, releasing the cache and retrying once when the device is full.
  StatusOr<void*> AllocateFromDriver(size_t block, size_t requested);
  Status OutOfMemory(size_t requested) const;
  // Grows the staging buffer towards min(bytes, max_staging_bytes); false when no pinned
  // memory could be had (copies then go from pageable memory).
  bool EnsureStaging(size_t bytes) REQUIRES(staging_mutex_);
  Status CopyInChunks(char* dst, const char* src, size_t bytes) REQUIRES(staging_mutex_);
  Status CopyOutChunks(char* dst, const char* src, size_t bytes) REQUIRES(staging_mutex_);

  const std::shared_ptr<GpuContext> context_;
  const GpuApi& api_;
  const GpuAllocatorOptions options_;
  std::atomic<int64_t> bytes_in_use_{0};

  BlockCache cache_;

  mutable Mutex staging_mutex_;
  void* staging_ GUARDED_BY(staging_mutex_) = nullptr;  // pinned host memory
  size_t staging_bytes_ GUARDED_BY(staging_mutex_) = 0;

};

// Copies `bytes` from `src_ptr` on `src` to `dst_ptr` on `dst` and waits for it. Within one
// device: memcpy_dtod_async. Between devices of one driver that can reach each other
// (can_access_peer): peer access is enabled once and the copy is a peer copy. Both run on
// dst's copy stream, so they may overlap a kernel running on dst. Otherwise the bytes go
// through host memory in chunks. Errors as the driver reports them.
Status CopyDeviceToDevice(GpuDevice& dst, void* dst_ptr, GpuDevice& src, const void* src_ptr,
                          size_t bytes);

}  // namespace petabox
