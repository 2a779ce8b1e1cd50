#include "devices/hip/hip_context.h"

#include <algorithm>

namespace petabox {

HipContext::HipContext(const HipApi* api, int ordinal)
    : api_(api), ordinal_(ordinal), name_("HIP:" + std::to_string(ordinal)) {}

StatusOr<std::shared_ptr<HipContext>> HipContext::Create(const HipApi* api, int ordinal) {
  // The destructor releases whatever was taken when a later step fails.
  std::shared_ptr<HipContext> context(new HipContext(api, ordinal));
  PB_RETURN_IF_ERROR(context->MakeCurrent());
  // Non-blocking: the stream does not synchronize with the null stream that other
  // libraries in the process may use.
  PB_RETURN_IF_ERROR(HipCheckWith(
      api, api->hipStreamCreateWithFlags(&context->stream_, kHipStreamNonBlocking),
      "hipStreamCreateWithFlags"));
  return context;
}

HipContext::~HipContext() {
  if (stream_ == nullptr) return;
  // Errors are ignored: a destructor cannot report them, and a device broken by a
  // faulting kernel must still release its stream.
  api_->hipSetDevice(ordinal_);
  api_->hipStreamDestroy(stream_);
}

Status HipContext::MakeCurrent() const {
  return HipCheckWith(api_, api_->hipSetDevice(ordinal_), "hipSetDevice");
}

Status HipContext::Synchronize() const {
  PB_RETURN_IF_ERROR(MakeCurrent());
  return HipCheckWith(api_, api_->hipStreamSynchronize(stream_), "hipStreamSynchronize");
}

Status HipContext::EnablePeerAccess(const HipContext& peer) {
  std::lock_guard<std::mutex> lock(peer_mutex_);
  if (std::find(peers_.begin(), peers_.end(), peer.ordinal()) != peers_.end()) {
    return Status::Ok();
  }
  PB_RETURN_IF_ERROR(MakeCurrent());
  HipError r = api_->hipDeviceEnablePeerAccess(peer.ordinal(), 0);
  if (r != kHipSuccess && r != kHipErrorPeerAccessAlreadyEnabled) {
    return HipCheckWith(api_, r, "hipDeviceEnablePeerAccess");
  }
  peers_.push_back(peer.ordinal());
  return Status::Ok();
}

}  // namespace petabox
