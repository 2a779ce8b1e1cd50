#include "devices/gpu/gpu_allocator.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "devices/gpu/gpu_device.h"

namespace petabox {
namespace {

size_t RoundUp(size_t bytes, size_t granularity) {
  return (bytes + granularity - 1) / granularity * granularity;
}

// Staging buffers grow in steps of this size, so a run of slightly larger copies does not
// reallocate pinned memory (slow: it maps pages for DMA) every time.
constexpr size_t kStagingStep = size_t{1} << 20;

GpuAllocatorOptions ResolveOptions(GpuAllocatorOptions options) {
  options.max_staging_bytes = std::max(options.max_staging_bytes, kStagingStep);
  return options;
}

}  // namespace

GpuAllocator::GpuAllocator(std::shared_ptr<GpuContext> context, GpuAllocatorOptions options)
    : context_(std::move(context)), api_(context_->api()), options_(ResolveOptions(options)) {}

GpuAllocator::~GpuAllocator() {
  (void)ReleaseCache();
  if (staging_ != nullptr && context_->MakeCurrent().ok()) api_.host_free(staging_);
}

StatusOr<void*> GpuAllocator::Alloc(size_t bytes) {
  const size_t block = BlockSize(bytes);
  if (block == 0) return OutOfMemory(bytes);
  void* ptr = reinterpret_cast<void*>(cache_.Take(block));
  if (ptr == nullptr) {
    PB_ASSIGN_OR_RETURN(ptr, AllocateFromDriver(block, bytes));
  }
  bytes_in_use_.fetch_add(static_cast<int64_t>(block));
  return ptr;
}

StatusOr<void*> GpuAllocator::AllocateFromDriver(size_t block, size_t requested) {
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  GpuDevicePtr ptr = nullptr;
  GpuResult r = api_.mem_alloc(&ptr, block);
  if (r == api_.codes.out_of_memory) {
    // Blocks of other sizes may be sitting in the cache: give them back and try again.
    (void)ReleaseCache();
    r = api_.mem_alloc(&ptr, block);
  }
  if (r == api_.codes.out_of_memory) return OutOfMemory(requested);
  PB_RETURN_IF_ERROR(api_.Check(r, "mem_alloc"));
  return ptr;
}

Status GpuAllocator::OutOfMemory(size_t requested) const {
  std::string message = context_->name() + " out of memory: requested " +
                        std::to_string(requested) + " bytes";
  size_t free_bytes = 0, total_bytes = 0;
  if (context_->MakeCurrent().ok() &&
      api_.mem_get_info(&free_bytes, &total_bytes) == api_.codes.success) {
    message += " (free " + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) + ")";
  }
  return ResourceExhausted(std::move(message));
}

void GpuAllocator::Free(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  const size_t block = BlockSize(bytes);
  cache_.Put(block, reinterpret_cast<uintptr_t>(ptr));
  bytes_in_use_.fetch_sub(static_cast<int64_t>(block));
}

Status GpuAllocator::ReleaseCache() {
  std::vector<uintptr_t> blocks = cache_.TakeAll();
  if (blocks.empty()) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  Status first_error;
  for (uintptr_t address : blocks) {
    Status status = api_.Check(api_.mem_free(reinterpret_cast<GpuDevicePtr>(address)), "mem_free");
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

size_t GpuAllocator::staging_bytes() const {
  MutexLock lock(staging_mutex_);
  return staging_bytes_;
}

bool GpuAllocator::EnsureStaging(size_t bytes) {
  if (!api_.has_pinned_memory()) return false;
  const size_t want = std::min(RoundUp(bytes, kStagingStep), options_.max_staging_bytes);
  if (staging_ != nullptr && staging_bytes_ >= want) return true;
  if (staging_ != nullptr) api_.host_free(staging_);
  staging_ = nullptr;
  staging_bytes_ = 0;
  void* buffer = nullptr;
  // Flags 0: plain pinned memory (CU_MEMHOSTALLOC default, hipHostMallocDefault).
  if (api_.host_alloc(&buffer, want, 0) != api_.codes.success) return false;
  staging_ = buffer;
  staging_bytes_ = want;
  return true;
}

Status GpuAllocator::CopyIn(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  MutexLock lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyInChunks(static_cast<char*>(dst), static_cast<const char*>(host_src), bytes);
  }
  // No pinned memory: the driver stages pageable copies itself (more slowly).
  PB_RETURN_IF_ERROR(
      api_.Check(api_.memcpy_htod_async(dst, host_src, bytes, context_->stream()), "memcpy_htod_async"));
  return context_->Synchronize();
}

Status GpuAllocator::CopyOut(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  MutexLock lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyOutChunks(static_cast<char*>(host_dst), static_cast<const char*>(src), bytes);
  }
  PB_RETURN_IF_ERROR(api_.Check(
      api_.memcpy_dtoh_async(host_dst, const_cast<void*>(src), bytes, context_->stream()),
      "memcpy_dtoh_async"));
  return context_->Synchronize();
}

Status GpuAllocator::CopyInChunks(char* dst, const char* src, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    std::memcpy(staging_, src + done, n);
    PB_RETURN_IF_ERROR(api_.Check(api_.memcpy_htod_async(dst + done, staging_, n, context_->stream()),
                                  "memcpy_htod_async"));
    // The staging buffer is refilled next, so this chunk must have left it.
    PB_RETURN_IF_ERROR(context_->Synchronize());
    done += n;
  }
  return Status::Ok();
}

Status GpuAllocator::CopyOutChunks(char* dst, const char* src, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    PB_RETURN_IF_ERROR(api_.Check(
        api_.memcpy_dtoh_async(staging_, const_cast<char*>(src) + done, n, context_->stream()),
        "memcpy_dtoh_async"));
    PB_RETURN_IF_ERROR(context_->Synchronize());
    std::memcpy(dst + done, staging_, n);
    done += n;
  }
  return Status::Ok();
}

namespace {

// Between devices without peer access: through a bounded host buffer, chunk by chunk.
Status CopyThroughHost(GpuDevice& dst, void* dst_ptr, GpuDevice& src, const void* src_ptr,
                       size_t bytes) {
  std::vector<char> buffer(std::min(bytes, size_t{64} << 20));
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(buffer.size(), bytes - done);
    PB_RETURN_IF_ERROR(
        src.allocator().CopyOut(buffer.data(), static_cast<const char*>(src_ptr) + done, n));
    PB_RETURN_IF_ERROR(
        dst.allocator().CopyIn(static_cast<char*>(dst_ptr) + done, buffer.data(), n));
    done += n;
  }
  return Status::Ok();
}

}  // namespace

Status CopyDeviceToDevice(GpuDevice& dst, void* dst_ptr, GpuDevice& src, const void* src_ptr,
                          size_t bytes) {
  if (bytes == 0) return Status::Ok();
  GpuContext& to = dst.gpu_context();
  GpuContext& from = src.gpu_context();
  const GpuApi& api = to.api();
  GpuDevicePtr source = const_cast<void*>(src_ptr);
  if (&api == &from.api() && to.ordinal() == from.ordinal()) {
    PB_RETURN_IF_ERROR(to.MakeCurrent());
    PB_RETURN_IF_ERROR(api.Check(api.memcpy_dtod_async(dst_ptr, source, bytes, to.copy_stream()),
                                 "memcpy_dtod_async"));
    return to.SynchronizeCopies();
  }
  int can_access = 0;
  if (&api == &from.api()) {
    PB_RETURN_IF_ERROR(api.Check(api.can_access_peer(&can_access, to.place().device, from.place().device),
                                 "can_access_peer"));
  }
  if (can_access == 0) return CopyThroughHost(dst, dst_ptr, src, src_ptr, bytes);
  PB_RETURN_IF_ERROR(to.EnablePeerAccess(from));
  // The copy runs on the destination's copy stream, so it may overlap a kernel on that
  // device; the bytes it reads and writes are no kernel's (the engine orders dependent work,
  // and every operation of the backend waits for completion).
  PB_RETURN_IF_ERROR(to.MakeCurrent());
  PB_RETURN_IF_ERROR(api.Check(
      api.CopyPeerAsync(dst_ptr, to.place(), source, from.place(), bytes, to.copy_stream()),
      "peer copy"));
  return to.SynchronizeCopies();
}

}  // namespace petabox
