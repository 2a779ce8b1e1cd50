// One HIP device's stream and the calls that select it: what every piece of the HIP
// backend needs to issue work on that device.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/hip/hip_api.h"

namespace petabox {

// Owns one non-blocking stream on device `ordinal`. HIP has no explicit contexts: the
// current device is per host thread (hipSetDevice), so every public entry point of the
// backend calls MakeCurrent() first. Shared (shared_ptr) by the device, its allocator and
// its programs, so the stream outlives every module and cached block that uses it.
// Thread-safe.
class HipContext {
 public:
  // Selects device `ordinal` on the calling thread and creates the stream. On failure
  // releases what it took and returns the runtime's error.
  static StatusOr<std::shared_ptr<HipContext>> Create(const HipApi* api, int ordinal);
  // Destroys the stream.
  ~HipContext();
  HipContext(const HipContext&) = delete;
  HipContext& operator=(const HipContext&) = delete;

  const HipApi& api() const { return *api_; }
  int ordinal() const { return ordinal_; }
  HipStream stream() const { return stream_; }
  // "HIP:<ordinal>", for messages.
  const std::string& name() const { return name_; }

  // Makes the device current on the calling thread (cheap: a thread-local store).
  Status MakeCurrent() const;
  // Waits for everything queued on the stream; returns errors of earlier kernels too.
  Status Synchronize() const;
  // Lets this device read and write `peer`'s memory directly. Enabled once per peer;
  // later calls, and a runtime answer of "already enabled", are OK. The caller checks
  // hipDeviceCanAccessPeer first.
  Status EnablePeerAccess(const HipContext& peer);

 private:
  HipContext(const HipApi* api, int ordinal);

  const HipApi* const api_;
  const int ordinal_;
  const std::string name_;
  HipStream stream_ = nullptr;

  std::mutex peer_mutex_;
  std::vector<int> peers_;  // GUARDED_BY(peer_mutex_): peers already enabled
};

}  // namespace petabox
