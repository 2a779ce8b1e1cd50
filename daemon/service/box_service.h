// petabox.v1.BoxService: the box's devices (described once at start), who holds them, the
// queue, the devices' live telemetry (daemon/telemetry/sampler.h) and the tenants' metered
// use (a tenant sees only its own jobs and use). A thin adapter.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include <vector>

#include "daemon/auth/authenticator.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/telemetry/sampler.h"
#include "daemon/telemetry/usage_ledger.h"
#include "petabox/v1/box.grpc.pb.h"

namespace petabox::daemon {

// Where the box's telemetry comes from; both null when telemetry is off.
struct BoxTelemetry {
  const TelemetrySampler* sampler = nullptr;
  const UsageLedger* ledger = nullptr;
};

class BoxServiceImpl final : public v1::BoxService::Service {
 public:
  // `devices`: the box's devices as described at start (name, kind, description, memory).
  BoxServiceImpl(JobManager* manager, const Authenticator* auth, std::vector<v1::Device> devices,
                 BoxTelemetry telemetry = {})
      : manager_(manager), auth_(auth), devices_(std::move(devices)), telemetry_(telemetry) {}

  grpc::Status GetBox(grpc::ServerContext* context, const v1::GetBoxRequest* request, v1::Box* response) override;
  // Sends the box, then again after each new sample, until the client cancels
  // (CANCELLED) or petaboxd shuts down (UNAVAILABLE).
  grpc::Status WatchBox(grpc::ServerContext* context, const v1::WatchBoxRequest* request,
                        grpc::ServerWriter<v1::Box>* writer) override;

 private:
  JobManager* const manager_;
  const Authenticator* const auth_;
  const std::vector<v1::Device> devices_;
  const BoxTelemetry telemetry_;
};

// The box as GetBox returns it to `viewer`: devices and holders from the JobManager,
// telemetry from the latest sample, tenants from the ledger (when given). A tenant sees
// every device, but holders and metering only where they are its own.
v1::Box DescribeBox(JobManager* manager, const std::vector<v1::Device>& devices, const BoxTelemetry& telemetry = {},
                    const Principal& viewer = Principal::Owner());

// Copies one device sample into the API message.
void ToProto(const DeviceSample& sample, v1::DeviceTelemetry* out);

}  // namespace petabox::daemon
