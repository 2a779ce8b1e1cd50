// The routes petaboxd serves on http_listen:
//   /metrics         Prometheus exposition (daemon/metrics/box_metrics.h)
//   /                the status page (daemon/http/static/index.html), /static/* its files
//   /api/box         the box now, as JSON (BoxJson documents the fields)
//   /api/history     recent samples per device for the page's charts (HistoryJson)
//   /healthz         "ok" while serving, 503 "draining" while petaboxd drains
//
// Thread-safe: the handlers read only thread-safe sources.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/http/http_server.h"
#include "daemon/metrics/box_metrics.h"
#include "daemon/store/job_store.h"
#include "daemon/telemetry/sampler.h"
#include "daemon/telemetry/usage_ledger.h"

namespace petabox::daemon {

struct StatusSources {
  std::vector<DeviceInfo> devices;
  const TelemetrySampler* sampler = nullptr;  // null: telemetry off
  const UsageLedger* ledger = nullptr;
  const BoxMetrics* metrics = nullptr;
  const JobStore* store = nullptr;
  const Clock* clock = nullptr;
  std::function<bool()> draining;  // may be empty (never draining)
  int recent_jobs = 20;            // jobs listed by /api/box
};

// The routes above; `sources`' pointers must outlive the server.
std::map<std::string, HttpHandler> StatusRoutes(StatusSources sources);

// /api/box's body: one JSON object.
//   daemon_version            petaboxd's version
//   time                      Unix seconds of this answer
//   telemetry_interval_seconds  how often devices are sampled (0: telemetry off)
//   sample                    {sequence, time, interval_seconds} of the latest sample, or
//                             null before the first (and with telemetry off)
//   draining                  true while petaboxd drains (no job starts)
//   queue_length, running_jobs  jobs QUEUED; jobs STARTING, RUNNING or CANCELLING
//   devices[]                 per device, in the box's order:
//     name, kind ("cuda", "hip", "cpu"), description
//     state ("idle", "busy"), job ("jobs/{id}"; null when idle or held by a tenant's
//     job), tenant (or null)
//     telemetry_source        "nvml", "rocm_smi", "rapl" or "none"
//     power_group             devices sharing this device's power reading (only when
//                             shared: the virtual CPU devices share the host's RAPL)
//     busy_ratio              0..1, kernel time over the last interval
//     flops_per_second        achieved over the last interval (engine FLOP counts)
//     peak_flops_per_second   highest interval FLOP/s since petaboxd started
//     flops_total, busy_seconds_total, kernels_total   since petaboxd started
//     power_watts, energy_joules_total (since the first sample), flops_per_watt
//     memory_used_bytes (whole device), memory_total_bytes, engine_memory_bytes (the
//     holding job's engine), temperature_celsius, core_clock_hz, memory_clock_hz,
//     vendor_utilization_ratio (the driver's own busy figure)
//     A reading the device cannot give is null, never estimated.
//   jobs[]                    the most recent jobs, newest first: name, display_name,
//                             (both null, and failure_reason "", for tenants' jobs:
//                             these endpoints have no authentication)
//                             state ("QUEUED", "RUNNING", ...), tenant, devices[],
//                             priority, create_time, start_time, end_time (Unix seconds or
//                             null), failure_reason, progress {step, total_steps, epoch,
//                             loss, samples_per_second, achieved_flops_per_second,
//                             eta_seconds} (null before the first progress report)
//   tenants[]                 {tenant, device_seconds, flops, energy_joules}: metering
//                             totals since petaboxd started (energy_joules is null when
//                             no device of the box has an energy reading)
std::string BoxJson(const StatusSources& sources);

// /api/history's body: {"interval_seconds": s, "last_sequence": n (the newest sample's
// sequence, 0 when none), "times": [Unix seconds...], "devices":
// {"CUDA:0": {"busy_ratio": [...], "flops_per_second": [...], "power_watts": [...],
// "flops_per_watt": [...]}, ...}}, oldest first; absent readings are null.
std::string HistoryJson(const StatusSources& sources);

}  // namespace petabox::daemon
