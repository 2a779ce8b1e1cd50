#include "devices/gpu/gpu_context.h"

#include <algorithm>

namespace petabox {

GpuContext::GpuContext(const GpuApi* api, int ordinal)
    : api_(api), name_(api->kind + ":" + std::to_string(ordinal)) {
  place_.ordinal = ordinal;
}

StatusOr<std::shared_ptr<GpuContext>> GpuContext::Create(const GpuApi* api, int ordinal) {
  // The destructor releases whatever was taken when a later step fails.
  std::shared_ptr<GpuContext> context(new GpuContext(api, ordinal));
  PB_RETURN_IF_ERROR(api->OpenDevice(ordinal, &context->place_));
  context->open_ = true;
  PB_RETURN_IF_ERROR(context->MakeCurrent());
  // Non-blocking: the streams do not synchronize with the legacy default stream that other
  // libraries in the process may use.
  PB_RETURN_IF_ERROR(api->Check(api->stream_create(&context->stream_, api->stream_non_blocking),
                                "stream_create"));
  PB_RETURN_IF_ERROR(api->Check(api->stream_create(&context->copy_stream_, api->stream_non_blocking),
                                "stream_create (copy stream)"));
  return context;
}

GpuContext::~GpuContext() {
  if (!open_) return;
  // Errors are ignored: a destructor cannot report them, and a device broken by a
  // faulting kernel must still be released.
  (void)MakeCurrent();
  if (stream_ != nullptr) api_->stream_destroy(stream_);
  if (copy_stream_ != nullptr) api_->stream_destroy(copy_stream_);
  api_->CloseDevice(place_);
}

Status GpuContext::SynchronizeStream(GpuStream stream, const char* what) const {
  PB_RETURN_IF_ERROR(MakeCurrent());
  return api_->Check(api_->stream_synchronize(stream), what);
}

Status GpuContext::EnablePeerAccess(const GpuContext& peer) {
  MutexLock lock(peer_mutex_);
  if (std::find(peers_.begin(), peers_.end(), peer.ordinal()) != peers_.end()) {
    return Status::Ok();
  }
  PB_RETURN_IF_ERROR(MakeCurrent());
  GpuResult r = api_->EnablePeerAccess(peer.place());
  if (r != api_->codes.peer_access_already_enabled) {
    PB_RETURN_IF_ERROR(api_->Check(r, "enable peer access"));
  }
  peers_.push_back(peer.ordinal());
  return Status::Ok();
}

}  // namespace petabox
