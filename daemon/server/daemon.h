// Daemon: petaboxd assembled: the job store, the owner token, the devices, the JobManager
// on a Boost.Asio event loop, and the gRPC server (JobService, DatasetService, BoxService,
// the standard health service and reflection). Run() serves until SIGTERM or SIGINT, then
// drains: the health service turns NOT_SERVING, workers checkpoint and stop, their jobs
// return to QUEUED, open watches end with UNAVAILABLE, and Run returns.
//
// On http_listen it serves /metrics, the status page and /api/box (daemon/http/), fed by
// the telemetry sampler (daemon/telemetry/) every telemetry.interval_seconds.
//
// Threading: Create and Run on the main thread; the loop, gRPC, and telemetry with HTTP
// have their own threads.
#pragma once

#include <memory>
#include <string>

#include "daemon/config/config.h"
#include "engine/util/status.h"

namespace petabox::daemon {

class Daemon {
 public:
  // Opens the data directory (creating it, mode 0700) and everything in it. Errors name
  // what failed: an unusable data dir, a device that does not exist ("devices[1]: ..."), a
  // missing petabox-worker.
  static StatusOr<std::unique_ptr<Daemon>> Create(const DaemonConfig& config);
  ~Daemon();

  // Serves until a stop signal; Unavailable when the gRPC or HTTP address cannot be bound,
  // NotFound when a TLS file cannot be read. On an error, whatever had started is stopped
  // again before Run returns.
  Status Run();

 private:
  struct Parts;
  explicit Daemon(std::unique_ptr<Parts> parts);
  Status Serve();
  Status StartTelemetry();
  void LogServing(int grpc_port) const;
  void Notify(const std::string& state) const;
  std::unique_ptr<Parts> parts_;
};

}  // namespace petabox::daemon
