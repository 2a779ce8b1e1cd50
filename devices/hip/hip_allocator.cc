#include "devices/hip/hip_allocator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "devices/hip/hip_device.h"

namespace petabox {
namespace {

size_t RoundUp(size_t bytes, size_t granularity) {
  return (bytes + granularity - 1) / granularity * granularity;
}

// Staging buffers grow in steps of this size, so a run of slightly larger copies does not
// reallocate pinned memory (slow: it maps pages for DMA) every time.
constexpr size_t kStagingStep = size_t{1} << 20;

HipAllocatorOptions ResolveOptions(HipAllocatorOptions options) {
  options.max_staging_bytes = std::max(options.max_staging_bytes, kStagingStep);
  return options;
}

}  // namespace

HipAllocator::HipAllocator(std::shared_ptr<HipContext> context, HipAllocatorOptions options)
    : context_(std::move(context)), options_(ResolveOptions(options)) {}

HipAllocator::~HipAllocator() {
  (void)ReleaseCache();
  if (staging_ != nullptr && context_->MakeCurrent().ok()) context_->api().hipHostFree(staging_);
}

StatusOr<void*> HipAllocator::Alloc(size_t bytes) {
  const size_t block = BlockSize(bytes);
  if (block == 0) return OutOfMemory(bytes);
  void* ptr = reinterpret_cast<void*>(cache_.Take(block));
  if (ptr == nullptr) {
    PB_ASSIGN_OR_RETURN(ptr, AllocateFromRuntime(block, bytes));
  }
  bytes_in_use_.fetch_add(static_cast<int64_t>(block));
  return ptr;
}

StatusOr<void*> HipAllocator::AllocateFromRuntime(size_t block, size_t requested) {
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  const HipApi& api = context_->api();
  void* ptr = nullptr;
  HipError r = api.hipMalloc(&ptr, block);
  if (r == kHipErrorOutOfMemory) {
    // Blocks of other sizes may be sitting in the cache: give them back and try again.
    (void)ReleaseCache();
    r = api.hipMalloc(&ptr, block);
  }
  if (r == kHipErrorOutOfMemory) return OutOfMemory(requested);
  PB_RETURN_IF_ERROR(HipCheckWith(&api, r, "hipMalloc"));
  return ptr;
}

Status HipAllocator::OutOfMemory(size_t requested) const {
  std::string message = context_->name() + " out of memory: requested " +
                        std::to_string(requested) + " bytes";
  size_t free_bytes = 0, total_bytes = 0;
  if (context_->MakeCurrent().ok() &&
      context_->api().hipMemGetInfo(&free_bytes, &total_bytes) == kHipSuccess) {
    message += " (free " + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) + ")";
  }
  return ResourceExhausted(std::move(message));
}

void HipAllocator::Free(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  const size_t block = BlockSize(bytes);
  cache_.Put(block, reinterpret_cast<uintptr_t>(ptr));
  bytes_in_use_.fetch_sub(static_cast<int64_t>(block));
}

int64_t HipAllocator::BytesCached() const {
  return cache_.bytes_cached();
}

Status HipAllocator::ReleaseCache() {
  std::vector<uintptr_t> blocks = cache_.TakeAll();
  if (blocks.empty()) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  Status first_error;
  for (uintptr_t address : blocks) {
    void* ptr = reinterpret_cast<void*>(address);
    Status status = HipCheckWith(&context_->api(), context_->api().hipFree(ptr), "hipFree");
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

size_t HipAllocator::staging_bytes() const {
  std::lock_guard<std::mutex> lock(staging_mutex_);
  return staging_bytes_;
}

bool HipAllocator::EnsureStaging(size_t bytes) {
  const HipApi& api = context_->api();
  if (!api.has_pinned_memory()) return false;
  const size_t want = std::min(RoundUp(bytes, kStagingStep), options_.max_staging_bytes);
  if (staging_ != nullptr && staging_bytes_ >= want) return true;
  if (staging_ != nullptr) api.hipHostFree(staging_);
  staging_ = nullptr;
  staging_bytes_ = 0;
  void* buffer = nullptr;
  if (api.hipHostMalloc(&buffer, want, kHipHostMallocDefault) != kHipSuccess) return false;
  staging_ = buffer;
  staging_bytes_ = want;
  return true;
}

Status HipAllocator::CopyIn(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  std::lock_guard<std::mutex> lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyInChunks(static_cast<char*>(dst), static_cast<const char*>(host_src), bytes);
  }
  // No pinned memory: the runtime stages pageable copies itself (more slowly). HIP's
  // prototype takes a non-const source; it only reads it.
  const HipApi& api = context_->api();
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipMemcpyHtoDAsync(dst, const_cast<void*>(host_src), bytes, context_->stream()),
      "hipMemcpyHtoDAsync"));
  return context_->Synchronize();
}

Status HipAllocator::CopyOut(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  std::lock_guard<std::mutex> lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyOutChunks(static_cast<char*>(host_dst), static_cast<const char*>(src), bytes);
  }
  const HipApi& api = context_->api();
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipMemcpyDtoHAsync(host_dst, const_cast<void*>(src), bytes, context_->stream()),
      "hipMemcpyDtoHAsync"));
  return context_->Synchronize();
}

Status HipAllocator::CopyInChunks(char* dst, const char* src, size_t bytes) {
  const HipApi& api = context_->api();
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    std::memcpy(staging_, src + done, n);
    PB_RETURN_IF_ERROR(HipCheckWith(
        &api, api.hipMemcpyHtoDAsync(dst + done, staging_, n, context_->stream()),
        "hipMemcpyHtoDAsync"));
    // The staging buffer is refilled next, so this chunk must have left it.
    PB_RETURN_IF_ERROR(context_->Synchronize());
    done += n;
  }
  return Status::Ok();
}

Status HipAllocator::CopyOutChunks(char* dst, const char* src, size_t bytes) {
  const HipApi& api = context_->api();
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    PB_RETURN_IF_ERROR(HipCheckWith(
        &api,
        api.hipMemcpyDtoHAsync(staging_, const_cast<char*>(src) + done, n, context_->stream()),
        "hipMemcpyDtoHAsync"));
    PB_RETURN_IF_ERROR(context_->Synchronize());
    std::memcpy(dst + done, staging_, n);
    done += n;
  }
  return Status::Ok();
}

namespace {

// Within one device: one copy on its stream.
Status CopyWithinDevice(HipContext& context, void* dst, const void* src, size_t bytes) {
  PB_RETURN_IF_ERROR(context.MakeCurrent());
  const HipApi& api = context.api();
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipMemcpyDtoDAsync(dst, const_cast<void*>(src), bytes, context.stream()),
      "hipMemcpyDtoDAsync"));
  return context.Synchronize();
}

// Between devices without peer access: through a bounded host buffer, chunk by chunk.
Status CopyThroughHost(HipDevice& dst, void* dst_ptr, HipDevice& src, const void* src_ptr,
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

Status CopyDeviceToDevice(HipDevice& dst, void* dst_ptr, HipDevice& src, const void* src_ptr,
                          size_t bytes) {
  if (bytes == 0) return Status::Ok();
  HipContext& dst_context = dst.hip_context();
  HipContext& src_context = src.hip_context();
  if (dst_context.ordinal() == src_context.ordinal()) {
    return CopyWithinDevice(dst_context, dst_ptr, src_ptr, bytes);
  }
  const HipApi& api = dst_context.api();
  int can_access = 0;
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipDeviceCanAccessPeer(&can_access, dst_context.ordinal(), src_context.ordinal()),
      "hipDeviceCanAccessPeer"));
  if (can_access == 0) return CopyThroughHost(dst, dst_ptr, src, src_ptr, bytes);
  PB_RETURN_IF_ERROR(dst_context.EnablePeerAccess(src_context));
  // The copy runs on the destination's stream; the source has no queued work (every
  // operation of the backend waits for completion).
  PB_RETURN_IF_ERROR(dst_context.MakeCurrent());
  PB_RETURN_IF_ERROR(HipCheckWith(
      &api, api.hipMemcpyPeerAsync(dst_ptr, dst_context.ordinal(), src_ptr, src_context.ordinal(),
                                   bytes, dst_context.stream()),
      "hipMemcpyPeerAsync"));
  return dst_context.Synchronize();
}

}  // namespace petabox
