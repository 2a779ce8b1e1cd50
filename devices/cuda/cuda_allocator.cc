#include "devices/cuda/cuda_allocator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "devices/cuda/cuda_device.h"

namespace petabox {
namespace {

CUdeviceptr ToDevicePtr(const void* ptr) { return reinterpret_cast<CUdeviceptr>(ptr); }

size_t RoundUp(size_t bytes, size_t granularity) {
  return (bytes + granularity - 1) / granularity * granularity;
}

// Staging buffers grow in steps of this size, so a run of slightly larger copies does not
// reallocate pinned memory (slow: it maps pages for DMA) every time.
constexpr size_t kStagingStep = size_t{1} << 20;

CudaAllocatorOptions ResolveOptions(CudaAllocatorOptions options) {
  options.max_staging_bytes = std::max(options.max_staging_bytes, kStagingStep);
  return options;
}

}  // namespace

CudaAllocator::CudaAllocator(std::shared_ptr<CudaContext> context, CudaAllocatorOptions options)
    : context_(std::move(context)), options_(ResolveOptions(options)) {}

CudaAllocator::~CudaAllocator() {
  (void)ReleaseCache();
  if (staging_ != nullptr && context_->MakeCurrent().ok()) {
    context_->api().cuMemFreeHost(staging_);
  }
}

StatusOr<void*> CudaAllocator::Alloc(size_t bytes) {
  const size_t block = BlockSize(bytes);
  if (block == 0) return OutOfMemory(bytes);
  CUdeviceptr ptr = static_cast<CUdeviceptr>(cache_.Take(block));
  if (ptr == 0) {
    PB_ASSIGN_OR_RETURN(ptr, AllocateFromDriver(block, bytes));
  }
  bytes_in_use_.fetch_add(static_cast<int64_t>(block));
  return reinterpret_cast<void*>(ptr);
}

StatusOr<CUdeviceptr> CudaAllocator::AllocateFromDriver(size_t block, size_t requested) {
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  const CudaApi& api = context_->api();
  CUdeviceptr ptr = 0;
  CUresult r = api.cuMemAlloc_v2(&ptr, block);
  if (r == kCudaErrorOutOfMemory) {
    // Blocks of other sizes may be sitting in the cache: give them back and try again.
    (void)ReleaseCache();
    r = api.cuMemAlloc_v2(&ptr, block);
  }
  if (r == kCudaErrorOutOfMemory) return OutOfMemory(requested);
  PB_RETURN_IF_ERROR(CudaCheck(r, "cuMemAlloc"));
  return ptr;
}

Status CudaAllocator::OutOfMemory(size_t requested) const {
  std::string message = context_->name() + " out of memory: requested " +
                        std::to_string(requested) + " bytes";
  size_t free_bytes = 0, total_bytes = 0;
  if (context_->MakeCurrent().ok() &&
      context_->api().cuMemGetInfo_v2(&free_bytes, &total_bytes) == kCudaSuccess) {
    message += " (free " + std::to_string(free_bytes) + " of " + std::to_string(total_bytes) + ")";
  }
  return ResourceExhausted(std::move(message));
}

void CudaAllocator::Free(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  const size_t block = BlockSize(bytes);
  cache_.Put(block, static_cast<uintptr_t>(ToDevicePtr(ptr)));
  bytes_in_use_.fetch_sub(static_cast<int64_t>(block));
}

int64_t CudaAllocator::BytesCached() const {
  return cache_.bytes_cached();
}

Status CudaAllocator::ReleaseCache() {
  std::vector<uintptr_t> blocks = cache_.TakeAll();
  if (blocks.empty()) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  Status first_error;
  for (uintptr_t address : blocks) {
    Status status = CudaCheck(context_->api().cuMemFree_v2(static_cast<CUdeviceptr>(address)), "cuMemFree");
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

size_t CudaAllocator::staging_bytes() const {
  std::lock_guard<std::mutex> lock(staging_mutex_);
  return staging_bytes_;
}

bool CudaAllocator::EnsureStaging(size_t bytes) {
  const size_t want = std::min(RoundUp(bytes, kStagingStep), options_.max_staging_bytes);
  if (staging_ != nullptr && staging_bytes_ >= want) return true;
  const CudaApi& api = context_->api();
  if (staging_ != nullptr) api.cuMemFreeHost(staging_);
  staging_ = nullptr;
  staging_bytes_ = 0;
  void* buffer = nullptr;
  if (api.cuMemAllocHost_v2(&buffer, want) != kCudaSuccess) return false;
  staging_ = buffer;
  staging_bytes_ = want;
  return true;
}

Status CudaAllocator::CopyIn(void* dst, const void* host_src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  std::lock_guard<std::mutex> lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyInChunks(ToDevicePtr(dst), static_cast<const char*>(host_src), bytes);
  }
  // No pinned memory: the driver stages pageable copies itself (more slowly).
  PB_RETURN_IF_ERROR(CudaCheck(context_->api().cuMemcpyHtoDAsync_v2(
                                   ToDevicePtr(dst), host_src, bytes, context_->stream()),
                               "cuMemcpyHtoDAsync"));
  return context_->Synchronize();
}

Status CudaAllocator::CopyOut(void* host_dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::Ok();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  std::lock_guard<std::mutex> lock(staging_mutex_);
  if (EnsureStaging(bytes)) {
    return CopyOutChunks(static_cast<char*>(host_dst), ToDevicePtr(src), bytes);
  }
  PB_RETURN_IF_ERROR(CudaCheck(context_->api().cuMemcpyDtoHAsync_v2(
                                   host_dst, ToDevicePtr(src), bytes, context_->stream()),
                               "cuMemcpyDtoHAsync"));
  return context_->Synchronize();
}

Status CudaAllocator::CopyInChunks(CUdeviceptr dst, const char* src, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    std::memcpy(staging_, src + done, n);
    PB_RETURN_IF_ERROR(CudaCheck(
        context_->api().cuMemcpyHtoDAsync_v2(dst + done, staging_, n, context_->stream()),
        "cuMemcpyHtoDAsync"));
    // The staging buffer is refilled next, so this chunk must have left it.
    PB_RETURN_IF_ERROR(context_->Synchronize());
    done += n;
  }
  return Status::Ok();
}

Status CudaAllocator::CopyOutChunks(char* dst, CUdeviceptr src, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(staging_bytes_, bytes - done);
    PB_RETURN_IF_ERROR(CudaCheck(
        context_->api().cuMemcpyDtoHAsync_v2(staging_, src + done, n, context_->stream()),
        "cuMemcpyDtoHAsync"));
    PB_RETURN_IF_ERROR(context_->Synchronize());
    std::memcpy(dst + done, staging_, n);
    done += n;
  }
  return Status::Ok();
}

namespace {

// Within one device: one copy on its copy stream.
Status CopyWithinDevice(CudaContext& context, CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  PB_RETURN_IF_ERROR(context.MakeCurrent());
  PB_RETURN_IF_ERROR(CudaCheck(
      context.api().cuMemcpyDtoDAsync_v2(dst, src, bytes, context.copy_stream()), "cuMemcpyDtoDAsync"));
  return context.SynchronizeCopies();
}

// Between devices without peer access: through a bounded host buffer, chunk by chunk.
Status CopyThroughHost(CudaDevice& dst, void* dst_ptr, CudaDevice& src, const void* src_ptr,
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

Status CopyDeviceToDevice(CudaDevice& dst, void* dst_ptr, CudaDevice& src, const void* src_ptr,
                          size_t bytes) {
  if (bytes == 0) return Status::Ok();
  CudaContext& dst_context = dst.cuda_context();
  CudaContext& src_context = src.cuda_context();
  if (dst_context.context() == src_context.context()) {
    return CopyWithinDevice(dst_context, ToDevicePtr(dst_ptr), ToDevicePtr(src_ptr), bytes);
  }
  const CudaApi& api = dst_context.api();
  int can_access = 0;
  PB_RETURN_IF_ERROR(CudaCheck(
      api.cuDeviceCanAccessPeer(&can_access, dst_context.device(), src_context.device()),
      "cuDeviceCanAccessPeer"));
  if (can_access == 0) return CopyThroughHost(dst, dst_ptr, src, src_ptr, bytes);
  PB_RETURN_IF_ERROR(dst_context.EnablePeerAccess(src_context));
  // The copy runs on the destination's copy stream, so it may overlap a kernel on that
  // device; the bytes it reads and writes are no kernel's (the engine orders dependent work,
  // and every operation of the backend waits for completion).
  PB_RETURN_IF_ERROR(dst_context.MakeCurrent());
  PB_RETURN_IF_ERROR(CudaCheck(
      api.cuMemcpyPeerAsync(ToDevicePtr(dst_ptr), dst_context.context(), ToDevicePtr(src_ptr),
                            src_context.context(), bytes, dst_context.copy_stream()),
      "cuMemcpyPeerAsync"));
  return dst_context.SynchronizeCopies();
}

}  // namespace petabox
