// BoxClient: BoxService calls over a Connection (statuses as in client/lib/job_client.h).
//
// Thread-safe as the Connection is; the Connection must outlive it.
#pragma once

#include <functional>

#include "client/lib/connection.h"
#include "engine/util/status.h"
#include "petabox/v1/box.pb.h"

namespace petabox::client {

class BoxClient {
 public:
  explicit BoxClient(const Connection& connection) : connection_(connection) {}

  StatusOr<v1::Box> GetBox() const;
  // Streams the box: on_box gets it at once, then after every telemetry sample, until the
  // daemon ends the stream (UNAVAILABLE when it shuts down) or on_box returns an error
  // (returned as is; the call is cancelled).
  Status WatchBox(const std::function<Status(const v1::Box&)>& on_box) const;

 private:
  const Connection& connection_;
};

}  // namespace petabox::client
