// Device memory for the CUDA backend: a caching allocator with pinned staging copies.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "devices/cuda/cuda_context.h"
#include "devices/block_cache.h"
#include "devices/device.h"

namespace petabox {

class CudaDevice;

struct CudaAllocatorOptions {
  // Largest pinned host buffer used to stage CopyIn/CopyOut (at least 1 MiB); larger
  // copies move in chunks of this size. The buffer grows, in 1 MiB steps, as copies need.
  size_t max_staging_bytes = size_t{64} << 20;
};

// Device memory of one CUDA device, cached: a freed block goes to a free list keyed by its
// block size and is handed out again for a request of the same block size, so a training
// loop that allocates the same shapes every step stops calling cuMemAlloc (which also
// synchronizes the device). Requests are rounded up to BlockCache block sizes. When the driver is out of memory the cache
// is returned to it and the allocation retried once.
//
// Every Launch and copy of the backend waits for completion, so a freed block is never
// still in use by queued work when it is handed out again.
// Thread-safe: every method may be called from any thread.
class CudaAllocator : public Allocator {
 public:

  // The block size a request of `bytes` is served with (BlockCache::BlockSize).
  static size_t BlockSize(size_t bytes) { return BlockCache::BlockSize(bytes); }

  CudaAllocator(std::shared_ptr<CudaContext> context, CudaAllocatorOptions options);
  // Returns cached blocks and the staging buffer to the driver. Blocks still allocated
  // are left to the context's teardown.
  ~CudaAllocator() override;

  // A block of BlockSize(bytes) bytes, from the cache when one of that size is free.
  // ResourceExhausted("CUDA:<i> out of memory: requested N bytes (free F of T)") when the
  // device has no room even after the cache was released; other driver errors as
  // CudaCheck reports them.
  StatusOr<void*> Alloc(size_t bytes) override;
  // Puts the block back in the cache; `bytes` is the size it was allocated with.
  void Free(void* ptr, size_t bytes) override;
  // Host -> device and device -> host, through the pinned staging buffer (pageable memory
  // directly if no pinned memory can be had), waiting for completion.
  Status CopyIn(void* dst, const void* host_src, size_t bytes) override;
  Status CopyOut(void* host_dst, const void* src, size_t bytes) override;
  // Bytes in blocks handed out and not yet freed (block sizes, not request sizes).
  int64_t BytesInUse() const override { return bytes_in_use_.load(); }

  // Bytes held in the cache of free blocks.
  int64_t BytesCached() const;
  // Returns every cached block to the driver. Returns the first cuMemFree error, after
  // trying all blocks.
  Status ReleaseCache();
  // Capacity of the pinned staging buffer now (0 before the first copy).
  size_t staging_bytes() const;

  const CudaContext& context() const { return *context_; }

 private:
  // cuMemAlloc, releasing the cache and retrying once when the device is full.
  StatusOr<CUdeviceptr> AllocateFromDriver(size_t block, size_t requested);
  Status OutOfMemory(size_t requested) const;
  // Grows the staging buffer towards min(bytes, max_staging_bytes); false when no pinned
  // memory could be had (copies then go from pageable memory).
  bool EnsureStaging(size_t bytes);  // REQUIRES(staging_mutex_)
  Status CopyInChunks(CUdeviceptr dst, const char* src, size_t bytes);  // REQUIRES(staging_mutex_)
  Status CopyOutChunks(char* dst, CUdeviceptr src, size_t bytes);       // REQUIRES(staging_mutex_)

  const std::shared_ptr<CudaContext> context_;
  const CudaAllocatorOptions options_;
  std::atomic<int64_t> bytes_in_use_{0};

  BlockCache cache_;

  mutable std::mutex staging_mutex_;
  void* staging_ = nullptr;   // GUARDED_BY(staging_mutex_): pinned host memory
  size_t staging_bytes_ = 0;  // GUARDED_BY(staging_mutex_)
};

// Copies `bytes` from `src_ptr` on `src` to `dst_ptr` on `dst` and waits for it. Within one
// device: cuMemcpyDtoD. Between devices that can reach each other
// (cuDeviceCanAccessPeer): peer access is enabled once and the copy is cuMemcpyPeer. Both
// run on dst's copy stream, so they may overlap a kernel running on dst.
// Otherwise the bytes go through host memory in chunks. Errors as the driver reports them.
Status CopyDeviceToDevice(CudaDevice& dst, void* dst_ptr, CudaDevice& src, const void* src_ptr,
                          size_t bytes);

}  // namespace petabox
