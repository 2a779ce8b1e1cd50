// BoxClient: BoxService calls over a Connection (statuses as in client/lib/job_client.h).
//
// Thread-safe as the Connection is; the Connection must outlive it.
#pragma once

#include "client/lib/connection.h"
#include "engine/util/status.h"
#include "petabox/v1/box.pb.h"

namespace petabox::client {

class BoxClient {
 public:
  explicit BoxClient(const Connection& connection) : connection_(connection) {}

  StatusOr<v1::Box> GetBox() const;

 private:
  const Connection& connection_;
};

}  // namespace petabox::client
