// One CUDA device's primary context and stream: what every piece of the CUDA backend
// needs to issue work on that device.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/cuda/cuda_api.h"

namespace petabox {

// Owns a retained primary context and two non-blocking streams on it: one for kernels and
// host transfers, one for device-to-device copies (so a copy into this device can run while
// a kernel does). Shared (shared_ptr)
// by the device, its allocator and its programs, so the context outlives every module and
// cached block that lives in it. The engine may call from any thread, so every public
// entry point of the backend calls MakeCurrent() first. Thread-safe.
class CudaContext {
 public:
  // Retains the primary context of device `ordinal`, makes it current on the calling
  // thread and creates the stream. On failure releases what it took and returns the
  // driver's error.
  static StatusOr<std::shared_ptr<CudaContext>> Create(const CudaApi* api, int ordinal);
  // Destroys the stream and releases the primary context.
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  const CudaApi& api() const { return *api_; }
  int ordinal() const { return ordinal_; }
  CUdevice device() const { return device_; }
  CUcontext context() const { return context_; }
  CUstream stream() const { return stream_; }
  // The stream device-to-device copies into this device run on.
  CUstream copy_stream() const { return copy_stream_; }
  // "CUDA:<ordinal>", for messages.
  const std::string& name() const { return name_; }

  // Makes the context current on the calling thread (cheap: a thread-local store).
  Status MakeCurrent() const;
  // Waits for everything queued on the stream; returns errors of earlier kernels too.
  Status Synchronize() const;
  // Waits for everything queued on the copy stream.
  Status SynchronizeCopies() const;
  // Lets this context read and write `peer`'s memory directly. Enabled once per peer;
  // later calls, and a driver answer of "already enabled", are OK. The caller checks
  // cuDeviceCanAccessPeer first.
  Status EnablePeerAccess(const CudaContext& peer);

 private:
  CudaContext(const CudaApi* api, int ordinal);

  const CudaApi* const api_;
  const int ordinal_;
  const std::string name_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;  // set by Create; null while not retained
  CUstream stream_ = nullptr;
  CUstream copy_stream_ = nullptr;

  std::mutex peer_mutex_;
  std::vector<CUcontext> peers_;  // GUARDED_BY(peer_mutex_): peers already enabled
};

}  // namespace petabox
