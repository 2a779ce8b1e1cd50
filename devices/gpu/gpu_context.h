// One GPU's place in its driver and its two streams: what every piece of the GPU backend
// needs to issue work on that device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "devices/gpu/gpu_api.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

// Owns the device as its driver opened it (CUDA: a retained primary context; HIP: the
// ordinal that hipSetDevice selects per thread) and two non-blocking streams: one for
// kernels and host transfers, one for device-to-device copies (so a copy into this device
// can run while a kernel does). Shared (shared_ptr) by the device, its allocator and its
// programs, so it outlives every module and cached block that lives in it. The engine may
// call from any thread, so every public entry point of the backend calls MakeCurrent()
// first. Thread-safe.
class GpuContext {
 public:
  // Opens device `ordinal` of `api` (which must outlive the context), makes it current on
  // the calling thread and creates the streams. On failure releases what it took and
  // returns the driver's error.
  static StatusOr<std::shared_ptr<GpuContext>> Create(const GpuApi* api, int ordinal);
  // Destroys the streams and closes the device.
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  const GpuApi& api() const { return *api_; }
  const GpuPlace& place() const { return place_; }
  int ordinal() const { return place_.ordinal; }
  GpuStream stream() const { return stream_; }
  // The stream device-to-device copies into this device run on.
  GpuStream copy_stream() const { return copy_stream_; }
  // "<kind>:<ordinal>", e.g. "CUDA:1", for messages and the device's name.
  const std::string& name() const { return name_; }

  // Makes the device current on the calling thread (cheap: a thread-local store).
  Status MakeCurrent() const { return api_->MakeCurrent(place_); }
  // Waits for everything queued on the stream; returns errors of earlier kernels too.
  Status Synchronize() const { return SynchronizeStream(stream_, "stream_synchronize"); }
  // Waits for everything queued on the copy stream.
  Status SynchronizeCopies() const {
    return SynchronizeStream(copy_stream_, "stream_synchronize (copy stream)");
  }
  // Lets this device read and write `peer`'s memory directly. Enabled once per peer;
  // later calls, and a driver answer of "already enabled", are OK. The caller checks
  // can_access_peer first.
  Status EnablePeerAccess(const GpuContext& peer) EXCLUDES(peer_mutex_);

 private:
  GpuContext(const GpuApi* api, int ordinal);
  Status SynchronizeStream(GpuStream stream, const char* what) const;

  const GpuApi* const api_;
  const std::string name_;
  GpuPlace place_;
  bool open_ = false;  // set by Create once OpenDevice succeeded
  GpuStream stream_ = nullptr;
  GpuStream copy_stream_ = nullptr;

  Mutex peer_mutex_;
  std::vector<int> peers_ GUARDED_BY(peer_mutex_);  // ordinals of peers already enabled

};

}  // namespace petabox
