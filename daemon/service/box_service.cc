#include "daemon/service/box_service.h"

#include <google/protobuf/util/time_util.h>

#include "daemon/service/status_mapping.h"

namespace petabox::daemon {
namespace {

using google::protobuf::util::TimeUtil;

// How often WatchBox looks at the box when no sample comes (telemetry off, or stopping).
constexpr auto kWatchPoll = std::chrono::milliseconds(2000);

}  // namespace

void ToProto(const DeviceSample& s, v1::DeviceTelemetry* out) {
  out->set_source(s.telemetry_source);
  if (s.busy_ratio) out->set_busy_ratio(*s.busy_ratio);
  if (s.flops_per_second) out->set_flops_per_second(*s.flops_per_second);
  out->set_peak_flops_per_second(s.peak_flops_per_second);
  out->set_flops_total(s.flops_total);
  out->set_busy_seconds_total(s.busy_seconds_total);
  if (s.power_watts) out->set_power_watts(*s.power_watts);
  if (s.energy_joules_total) out->set_energy_joules_total(*s.energy_joules_total);
  if (s.flops_per_watt) out->set_flops_per_watt(*s.flops_per_watt);
  if (s.memory_used_bytes) out->set_memory_used_bytes(*s.memory_used_bytes);
  if (s.memory_total_bytes) out->set_memory_total_bytes(*s.memory_total_bytes);
  out->set_engine_memory_bytes(s.engine_memory_bytes);
  if (s.temperature_celsius) out->set_temperature_celsius(*s.temperature_celsius);
  if (s.core_clock_hz) out->set_core_clock_hz(*s.core_clock_hz);
  if (s.memory_clock_hz) out->set_memory_clock_hz(*s.memory_clock_hz);
  if (s.vendor_utilization_ratio) out->set_vendor_utilization_ratio(*s.vendor_utilization_ratio);
  for (const std::string& d : s.power_group) out->add_power_group(d);
}

// What a tenant may see of the box: every device and its telemetry, but only its own jobs
// and its own metering; who else holds a device stays unsaid.
void KeepOnlyTenant(const std::string& tenant, v1::Box* box) {
  for (v1::Device& d : *box->mutable_devices()) {
    if (d.tenant() != tenant) {
      d.clear_job();
      d.clear_tenant();
    }
  }
  auto* tenants = box->mutable_tenants();
  for (int i = tenants->size() - 1; i >= 0; --i) {
    if (tenants->Get(i).tenant() != tenant) tenants->DeleteSubrange(i, 1);
  }
}

v1::Box DescribeBox(JobManager* manager, const std::vector<v1::Device>& devices, const BoxTelemetry& telemetry,
                    const Principal& viewer) {
  v1::Box box;
  box.set_daemon_version(PETABOX_VERSION);
  const std::vector<DeviceAssignment> held = manager->Devices();
  const BoxSample sample = telemetry.sampler ? telemetry.sampler->Latest() : BoxSample{};
  const LedgerSnapshot ledger = telemetry.ledger ? telemetry.ledger->Snapshot() : LedgerSnapshot{};
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
    if (auto l = ledger.devices.find(d.name()); l != ledger.devices.end() && out->state() == v1::Device::BUSY) {
      out->set_tenant(l->second.tenant);
    }
    for (const DeviceSample& s : sample.devices) {
      if (s.name == d.name()) ToProto(s, out->mutable_telemetry());
    }
  }
  box.set_queue_length(manager->QueueLength());
  box.set_running_jobs(manager->RunningJobs());
  box.set_draining(manager->draining());
  if (telemetry.sampler) box.set_telemetry_interval_seconds(telemetry.sampler->interval_seconds());
  if (sample.sequence > 0) {
    *box.mutable_sample_time() = TimeUtil::NanosecondsToTimestamp(static_cast<int64_t>(sample.unix_time * 1e9));
  }
  for (const auto& [tenant, t] : ledger.tenants) {
    v1::TenantUsage* u = box.add_tenants();
    u->set_tenant(tenant);
    u->set_device_seconds(t.device_seconds);
    u->set_flops(t.flops);
    if (sample.measures_energy()) u->set_energy_joules(t.energy_joules);
  }
  if (!viewer.is_owner()) KeepOnlyTenant(viewer.tenant, &box);
  return box;
}

grpc::Status BoxServiceImpl::GetBox(grpc::ServerContext* context, const v1::GetBoxRequest*, v1::Box* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  *response = DescribeBox(manager_, devices_, telemetry_, *who);
  return grpc::Status::OK;
}

grpc::Status BoxServiceImpl::WatchBox(grpc::ServerContext* context, const v1::WatchBoxRequest*,
                                      grpc::ServerWriter<v1::Box>* writer) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  uint64_t seen = telemetry_.sampler ? telemetry_.sampler->Latest().sequence : 0;
  while (!context->IsCancelled() && !manager_->shut_down()) {
    if (Status valid = auth_->StillValid(*who); !valid.ok()) return ToGrpcStatus(valid);
    if (!writer->Write(DescribeBox(manager_, devices_, telemetry_, *who))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
    if (!telemetry_.sampler) {
      manager_->WaitForEvents(manager_->EventVersion(), kWatchPoll);
      continue;
    }
    // The next sample; a poll timeout (no sampler timer, or a stopping one) sends anyway.
    const uint64_t latest = telemetry_.sampler->WaitForSample(seen, kWatchPoll);
    if (latest == seen && manager_->shut_down()) break;
    seen = latest;
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "petaboxd is shutting down");
}

}  // namespace petabox::daemon
