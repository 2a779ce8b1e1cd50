#include "daemon/service/box_service.h"

namespace petabox::daemon {

v1::Box DescribeBox(JobManager* manager, const std::vector<v1::Device>& devices) {
  v1::Box box;
  box.set_daemon_version(PETABOX_VERSION);
  const std::vector<DeviceAssignment> held = manager->Devices();
  for (const v1::Device& d : devices) {
    v1::Device* out = box.add_devices();
    *out = d;
    out->set_state(v1::Device::IDLE);
    for (const DeviceAssignment& a : held) {
      if (a.device == d.name() && !a.job.empty()) {
        out->set_state(v1::Device::BUSY);
        out->set_job(a.job);
      }
    }
  }
  box.set_queue_length(manager->QueueLength());
  box.set_running_jobs(manager->RunningJobs());
  box.set_draining(manager->draining());
  return box;
}

grpc::Status BoxServiceImpl::GetBox(grpc::ServerContext* context, const v1::GetBoxRequest*, v1::Box* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  *response = DescribeBox(manager_, devices_);
  return grpc::Status::OK;
}

}  // namespace petabox::daemon
