// petabox.v1.BoxService: the box's devices (described once at start), who holds them, and
// the queue. A thin adapter.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include <vector>

#include "daemon/auth/authenticator.h"
#include "daemon/jobs/job_manager.h"
#include "petabox/v1/box.grpc.pb.h"

namespace petabox::daemon {

class BoxServiceImpl final : public v1::BoxService::Service {
 public:
  // `devices`: the box's devices as described at start (name, kind, description, memory).
  BoxServiceImpl(JobManager* manager, const Authenticator* auth, std::vector<v1::Device> devices)
      : manager_(manager), auth_(auth), devices_(std::move(devices)) {}

  grpc::Status GetBox(grpc::ServerContext* context, const v1::GetBoxRequest* request, v1::Box* response) override;

 private:
  JobManager* const manager_;
  const Authenticator* const auth_;
  const std::vector<v1::Device> devices_;
};

// The box as GetBox returns it (also used by the HTTP status endpoint).
v1::Box DescribeBox(JobManager* manager, const std::vector<v1::Device>& devices);

}  // namespace petabox::daemon
