#include "daemon/http/status_endpoints.h"

#include "daemon/http/assets.h"
#include "daemon/http/json_writer.h"
#include "daemon/telemetry/tenant.h"

namespace petabox::daemon {
namespace {

std::optional<double> UnixTime(bool has, const google::protobuf::Timestamp& t) {
  return has ? std::optional<double>(t.seconds() + t.nanos() * 1e-9) : std::nullopt;
}

std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

void WriteDevice(JsonWriter& w, const DeviceInfo& info, const DeviceSample* s, const DeviceLedger& ledger) {
  w.BeginObject().Field("name", info.name).Field("kind", info.kind).Field("description", info.description);
  w.Field("state", ledger.job.empty() ? "idle" : "busy");
  w.Field("job", NonEmpty(ledger.job)).Field("tenant", NonEmpty(ledger.tenant));
  w.Field("telemetry_source", s ? s->telemetry_source : "none");
  if (s && !s->power_group.empty()) {
    w.Key("power_group").BeginArray();
    for (const std::string& d : s->power_group) w.Value(d);
    w.EndArray();
  }
  const DeviceSample empty;
  const DeviceSample& d = s ? *s : empty;
  w.Field("busy_ratio", d.busy_ratio).Field("flops_per_second", d.flops_per_second);
  w.Field("peak_flops_per_second", d.peak_flops_per_second);
  w.Field("flops_total", ledger.flops).Field("busy_seconds_total", ledger.busy_seconds);
  w.Field("kernels_total", ledger.kernels);
  w.Field("power_watts", d.power_watts).Field("energy_joules_total", d.energy_joules_total);
  w.Field("flops_per_watt", d.flops_per_watt);
  w.Field("memory_used_bytes", d.memory_used_bytes).Field("memory_total_bytes", d.memory_total_bytes);
  w.Field("engine_memory_bytes", ledger.engine_memory_bytes);
  w.Field("temperature_celsius", d.temperature_celsius);
  w.Field("core_clock_hz", d.core_clock_hz).Field("memory_clock_hz", d.memory_clock_hz);
  w.Field("vendor_utilization_ratio", d.vendor_utilization_ratio);
  w.EndObject();
}

void WriteJob(JsonWriter& w, const v1::Job& job) {
  w.BeginObject().Field("name", job.name()).Field("display_name", job.display_name());
  w.Field("state", v1::Job::State_Name(job.state())).Field("tenant", TenantOfJob(job));
  w.Key("devices").BeginArray();
  for (const std::string& d : job.devices()) w.Value(d);
  w.EndArray();
  w.Field("priority", job.priority());
  w.Field("create_time", UnixTime(job.has_create_time(), job.create_time()));
  w.Field("start_time", UnixTime(job.has_start_time(), job.start_time()));
  w.Field("end_time", UnixTime(job.has_end_time(), job.end_time()));
  w.Field("failure_reason", job.failure_reason());
  w.Key("progress");
  if (!job.has_progress()) {
    w.Null();
  } else {
    const v1::JobProgress& p = job.progress();
    w.BeginObject().Field("step", p.step()).Field("total_steps", p.total_steps()).Field("epoch", p.epoch());
    w.Field("loss", p.loss()).Field("samples_per_second", p.samples_per_second());
    w.Field("achieved_flops_per_second", p.achieved_flops_per_second()).Field("eta_seconds", p.eta_seconds());
    w.EndObject();
  }
  w.EndObject();
}

void WriteJobs(JsonWriter& w, const StatusSources& src) {
  w.Key("jobs").BeginArray();
  auto page = src.store->ListJobs(src.recent_jobs, "", {});
  if (page.ok()) {
    for (const v1::Job& job : page->jobs) WriteJob(w, job);
  }
  w.EndArray();
}

HttpResponse Json(std::string body) { return {200, "application/json", std::move(body)}; }

}  // namespace

std::string BoxJson(const StatusSources& src) {
  const LedgerSnapshot ledger = src.ledger->Snapshot();
  const BoxSample sample = src.sampler ? src.sampler->Latest() : BoxSample{};
  JsonWriter w;
  w.BeginObject().Field("daemon_version", PETABOX_VERSION).Field("time", src.clock->UnixNow());
  w.Field("telemetry_interval_seconds", src.sampler ? src.sampler->interval_seconds() : 0.0);
  w.Key("sample");
  if (sample.sequence == 0) w.Null();
  else {
    w.BeginObject().Field("sequence", static_cast<int64_t>(sample.sequence)).Field("time", sample.unix_time);
    w.Field("interval_seconds", sample.interval_seconds).EndObject();
  }
  w.Field("draining", src.draining ? src.draining() : false);
  const auto active = [&](v1::Job::State s) { return ledger.active_jobs.count(s) ? ledger.active_jobs.at(s) : 0; };
  w.Field("queue_length", active(v1::Job::QUEUED));
  w.Field("running_jobs", active(v1::Job::STARTING) + active(v1::Job::RUNNING) + active(v1::Job::CANCELLING));
  w.Key("devices").BeginArray();
  for (const DeviceInfo& info : src.devices) {
    const DeviceSample* s = nullptr;
    for (const DeviceSample& d : sample.devices) {
      if (d.name == info.name) s = &d;
    }
    auto l = ledger.devices.find(info.name);
    WriteDevice(w, info, s, l != ledger.devices.end() ? l->second : DeviceLedger{});
  }
  w.EndArray();
  WriteJobs(w, src);
  w.Key("tenants").BeginArray();
  for (const auto& [tenant, t] : ledger.tenants) {
    w.BeginObject().Field("tenant", tenant).Field("device_seconds", t.device_seconds).Field("flops", t.flops);
    w.Field("energy_joules", sample.measures_energy() ? std::optional<double>(t.energy_joules) : std::nullopt);
    w.EndObject();
  }
  w.EndArray();
  return w.EndObject().str();
}

std::string HistoryJson(const StatusSources& src) {
  const std::vector<BoxSample> history = src.sampler ? src.sampler->History() : std::vector<BoxSample>{};
  JsonWriter w;
  w.BeginObject().Field("interval_seconds", src.sampler ? src.sampler->interval_seconds() : 0.0);
  w.Field("last_sequence", static_cast<int64_t>(history.empty() ? 0 : history.back().sequence));
  w.Key("times").BeginArray();
  for (const BoxSample& b : history) w.Value(b.unix_time);
  w.EndArray();
  using Getter = std::optional<double> (*)(const DeviceSample&);
  const std::pair<const char*, Getter> series[] = {
      {"busy_ratio", [](const DeviceSample& s) { return s.busy_ratio; }},
      {"flops_per_second", [](const DeviceSample& s) { return s.flops_per_second; }},
      {"power_watts", [](const DeviceSample& s) { return s.power_watts; }},
      {"flops_per_watt", [](const DeviceSample& s) { return s.flops_per_watt; }},
  };
  w.Key("devices").BeginObject();
  for (const DeviceInfo& info : src.devices) {
    w.Key(info.name).BeginObject();
    for (const auto& [key, get] : series) {
      w.Key(key).BeginArray();
      for (const BoxSample& b : history) {
        std::optional<double> v;
        for (const DeviceSample& d : b.devices) {
          if (d.name == info.name) v = get(d);
        }
        w.Value(v);
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  return w.EndObject().str();
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
  routes["/api/box"] = [src](const HttpRequest&) { return Json(BoxJson(src)); };
  routes["/api/history"] = [src](const HttpRequest&) { return Json(HistoryJson(src)); };
  routes["/healthz"] = [src](const HttpRequest&) {
    if (src.draining && src.draining()) return HttpResponse{503, "text/plain; charset=utf-8", "draining\n"};
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  };
  return routes;
}

}  // namespace petabox::daemon
