#include "devices/cuda/cuda_context.h"

#include <algorithm>

namespace petabox {

CudaContext::CudaContext(const CudaApi* api, int ordinal)
    : api_(api), ordinal_(ordinal), name_("CUDA:" + std::to_string(ordinal)) {}

StatusOr<std::shared_ptr<CudaContext>> CudaContext::Create(const CudaApi* api, int ordinal) {
  // The destructor releases whatever was taken when a later step fails.
  std::shared_ptr<CudaContext> context(new CudaContext(api, ordinal));
  PB_RETURN_IF_ERROR(CudaCheck(api->cuDeviceGet(&context->device_, ordinal), "cuDeviceGet"));
  CUcontext primary = nullptr;
  PB_RETURN_IF_ERROR(CudaCheck(api->cuDevicePrimaryCtxRetain(&primary, context->device_),
                               "cuDevicePrimaryCtxRetain"));
  context->context_ = primary;
  PB_RETURN_IF_ERROR(context->MakeCurrent());
  // Non-blocking: the stream does not synchronize with the legacy default stream that
  // other libraries in the process may use.
  PB_RETURN_IF_ERROR(
      CudaCheck(api->cuStreamCreate(&context->stream_, kCuStreamNonBlocking), "cuStreamCreate"));
  PB_RETURN_IF_ERROR(CudaCheck(api->cuStreamCreate(&context->copy_stream_, kCuStreamNonBlocking),
                               "cuStreamCreate (copy stream)"));
  return context;
}

CudaContext::~CudaContext() {
  if (context_ == nullptr) return;
  // Errors are ignored: a destructor cannot report them, and a context broken by a
  // faulting kernel must still be released.
  api_->cuCtxSetCurrent(context_);
  if (stream_ != nullptr) api_->cuStreamDestroy_v2(stream_);
  if (copy_stream_ != nullptr) api_->cuStreamDestroy_v2(copy_stream_);
  api_->cuDevicePrimaryCtxRelease_v2(device_);
}

Status CudaContext::MakeCurrent() const {
  return CudaCheck(api_->cuCtxSetCurrent(context_), "cuCtxSetCurrent");
}

Status CudaContext::Synchronize() const {
  PB_RETURN_IF_ERROR(MakeCurrent());
  return CudaCheck(api_->cuStreamSynchronize(stream_), "cuStreamSynchronize");
}

Status CudaContext::SynchronizeCopies() const {
  PB_RETURN_IF_ERROR(MakeCurrent());
  return CudaCheck(api_->cuStreamSynchronize(copy_stream_), "cuStreamSynchronize (copy stream)");
}

Status CudaContext::EnablePeerAccess(const CudaContext& peer) {
  std::lock_guard<std::mutex> lock(peer_mutex_);
  if (std::find(peers_.begin(), peers_.end(), peer.context()) != peers_.end()) {
    return Status::Ok();
  }
  PB_RETURN_IF_ERROR(MakeCurrent());
  CUresult r = api_->cuCtxEnablePeerAccess(peer.context(), 0);
  if (r != kCudaSuccess && r != kCudaErrorPeerAccessAlreadyEnabled) {
    return CudaCheck(r, "cuCtxEnablePeerAccess");
  }
  peers_.push_back(peer.context());
  return Status::Ok();
}

}  // namespace petabox
