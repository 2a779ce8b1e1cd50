#include "daemon/http/status_endpoints.h"

#include "daemon/http/assets.h"
#include "daemon/telemetry/tenant.h"
#include "engine/nn/json.h"

namespace petabox::daemon {
namespace {

using nn::json::Json;

// null for an absent value (non-finite numbers are written as null by the dump too).
template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json UnixTime(bool has, const google::protobuf::Timestamp& t) {
  return has ? Json(t.seconds() + t.nanos() * 1e-9) : Json(nullptr);
}

Json NonEmpty(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json DeviceJson(const DeviceInfo& info, const DeviceSample* s, const DeviceLedger& ledger) {
  Json j = {{"name", info.name}, {"kind", info.kind}, {"description", info.description}};
  j["state"] = ledger.job.empty() ? "idle" : "busy";
  // Unauthenticated: a tenant's job is not named (its tenant is).
  j["job"] = ledger.tenant == kOwnerTenant ? NonEmpty(ledger.job) : Json(nullptr);
  j["tenant"] = NonEmpty(ledger.tenant);
  j["telemetry_source"] = s ? s->telemetry_source : "none";
  if (s && !s->power_group.empty()) j["power_group"] = s->power_group;
  const DeviceSample empty;
  const DeviceSample& d = s ? *s : empty;
  j["busy_ratio"] = OrNull(d.busy_ratio);
  j["flops_per_second"] = OrNull(d.flops_per_second);
  j["peak_flops_per_second"] = d.peak_flops_per_second;
  j["flops_total"] = ledger.flops;
  j["busy_seconds_total"] = ledger.busy_seconds;
  j["kernels_total"] = ledger.kernels;
  j["power_watts"] = OrNull(d.power_watts);
  j["energy_joules_total"] = OrNull(d.energy_joules_total);
  j["flops_per_watt"] = OrNull(d.flops_per_watt);
  j["memory_used_bytes"] = OrNull(d.memory_used_bytes);
  j["memory_total_bytes"] = OrNull(d.memory_total_bytes);
  j["engine_memory_bytes"] = ledger.engine_memory_bytes;
  j["temperature_celsius"] = OrNull(d.temperature_celsius);
  j["core_clock_hz"] = OrNull(d.core_clock_hz);
  j["memory_clock_hz"] = OrNull(d.memory_clock_hz);
  j["vendor_utilization_ratio"] = OrNull(d.vendor_utilization_ratio);
  return j;
}

Json ProgressJson(const v1::Job& job) {
  if (!job.has_progress()) return nullptr;
  const v1::JobProgress& p = job.progress();
  return {{"step", p.step()},
          {"total_steps", p.total_steps()},
          {"epoch", p.epoch()},
          {"loss", p.loss()},
          {"samples_per_second", p.samples_per_second()},
          {"achieved_flops_per_second", p.achieved_flops_per_second()},
          {"eta_seconds", p.eta_seconds()}};
}

// Unauthenticated: a tenant's job shows its state, devices and progress, never its name,
// display name or failure reason (which may quote its spec).
Json JobJson(const v1::Job& job) {
  const bool hidden = IsTenantJob(job);
  Json j = {{"name", hidden ? Json(nullptr) : Json(job.name())},
            {"display_name", hidden ? Json(nullptr) : Json(job.display_name())}};
  j["state"] = v1::Job::State_Name(job.state());
  j["tenant"] = TenantOfJob(job);
  j["devices"] = Json::array();
  for (const std::string& d : job.devices()) j["devices"].push_back(d);
  j["priority"] = job.priority();
  j["create_time"] = UnixTime(job.has_create_time(), job.create_time());
  j["start_time"] = UnixTime(job.has_start_time(), job.start_time());
  j["end_time"] = UnixTime(job.has_end_time(), job.end_time());
  j["failure_reason"] = hidden ? "" : job.failure_reason();
  j["progress"] = ProgressJson(job);
  return j;
}

Json JobsJson(const StatusSources& src) {
  Json jobs = Json::array();
  auto page = src.store->ListJobs(src.recent_jobs, "", {});
  if (page.ok()) {
    for (const v1::Job& job : page->jobs) jobs.push_back(JobJson(job));
  }
  return jobs;
}

Json SampleJson(const BoxSample& sample) {
  if (sample.sequence == 0) return nullptr;
  return {{"sequence", sample.sequence}, {"time", sample.unix_time}, {"interval_seconds", sample.interval_seconds}};
}

Json TenantsJson(const LedgerSnapshot& ledger, const BoxSample& sample) {
  Json tenants = Json::array();
  for (const auto& [tenant, t] : ledger.tenants) {
    tenants.push_back({{"tenant", tenant},
                       {"device_seconds", t.device_seconds},
                       {"flops", t.flops},
                       {"energy_joules", sample.measures_energy() ? Json(t.energy_joules) : Json(nullptr)}});
  }
  return tenants;
}

// The samples of `history`, one array per series, with null where a device had no value.
Json DeviceHistoryJson(const std::string& device, const std::vector<BoxSample>& history) {
  using Getter = std::optional<double> (*)(const DeviceSample&);
  const std::pair<const char*, Getter> series[] = {
      {"busy_ratio", [](const DeviceSample& s) { return s.busy_ratio; }},
      {"flops_per_second", [](const DeviceSample& s) { return s.flops_per_second; }},
      {"power_watts", [](const DeviceSample& s) { return s.power_watts; }},
      {"flops_per_watt", [](const DeviceSample& s) { return s.flops_per_watt; }},
  };
  Json out = Json::object();
  for (const auto& [key, get] : series) {
    Json& values = out[key] = Json::array();
    for (const BoxSample& b : history) {
      std::optional<double> v;
      for (const DeviceSample& d : b.devices) {
        if (d.name == device) v = get(d);
      }
      values.push_back(OrNull(v));
    }
  }
  return out;
}

HttpResponse JsonText(std::string body) { return {200, "application/json", std::move(body)}; }

}  // namespace

std::string BoxJson(const StatusSources& src) {
  const LedgerSnapshot ledger = src.ledger->Snapshot();
  const BoxSample sample = src.sampler ? src.sampler->Latest() : BoxSample{};
  Json j = {{"daemon_version", PETABOX_VERSION}, {"time", src.clock->UnixNow()}};
  j["telemetry_interval_seconds"] = src.sampler ? src.sampler->interval_seconds() : 0.0;
  j["sample"] = SampleJson(sample);
  j["draining"] = src.draining ? src.draining() : false;
  const auto active = [&](v1::Job::State s) { return ledger.active_jobs.count(s) ? ledger.active_jobs.at(s) : 0; };
  j["queue_length"] = active(v1::Job::QUEUED);
  j["running_jobs"] = active(v1::Job::STARTING) + active(v1::Job::RUNNING) + active(v1::Job::CANCELLING);
  Json& devices = j["devices"] = Json::array();
  for (const DeviceInfo& info : src.devices) {
    const DeviceSample* s = nullptr;
    for (const DeviceSample& d : sample.devices) {
      if (d.name == info.name) s = &d;
    }
    auto l = ledger.devices.find(info.name);
    devices.push_back(DeviceJson(info, s, l != ledger.devices.end() ? l->second : DeviceLedger{}));
  }
  j["jobs"] = JobsJson(src);
  j["tenants"] = TenantsJson(ledger, sample);
  return nn::json::DumpForHtml(j);
}

std::string HistoryJson(const StatusSources& src) {
  const std::vector<BoxSample> history = src.sampler ? src.sampler->History() : std::vector<BoxSample>{};
  Json j = {{"interval_seconds", src.sampler ? src.sampler->interval_seconds() : 0.0}};
  j["last_sequence"] = history.empty() ? 0 : history.back().sequence;
  Json& times = j["times"] = Json::array();
  for (const BoxSample& b : history) times.push_back(b.unix_time);
  Json& devices = j["devices"] = Json::object();
  for (const DeviceInfo& info : src.devices) devices[info.name] = DeviceHistoryJson(info.name, history);
  return nn::json::DumpForHtml(j);
}

std::map<std::string, HttpHandler> StatusRoutes(StatusSources src) {
  std::map<std::string, HttpHandler> routes;
  for (int i = 0; i < kStatusPageAssetCount; ++i) {
    const EmbeddedAsset& a = kStatusPageAssets[i];
    routes[a.path] = [a](const HttpRequest&) { return HttpResponse{200, a.content_type, a.body}; };
  }
  routes["/index.html"] = routes["/"];
  routes["/metrics"] = [src](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", SerializeMetrics(*src.metrics)};
  };
  routes["/api/box"] = [src](const HttpRequest&) { return JsonText(BoxJson(src)); };
  routes["/api/history"] = [src](const HttpRequest&) { return JsonText(HistoryJson(src)); };
  routes["/healthz"] = [src](const HttpRequest&) {
    if (src.draining && src.draining()) return HttpResponse{503, "text/plain; charset=utf-8", "draining\n"};
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  };
  return routes;
}

}  // namespace petabox::daemon
