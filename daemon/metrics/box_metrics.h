// BoxMetrics: the box's Prometheus metrics, built at each scrape from the sampler's latest
// sample (gauges) and a fresh ledger snapshot (counters), through prometheus-cpp's types
// and text serializer. Names follow Prometheus conventions: prefix petabox_, base units
// (seconds, bytes, joules, watts, hertz, celsius), _total counters, ratios in 0..1.
//
// Labels are bounded: `device` (the box's devices), `tenant` (tenants that used the box),
// `job_id` ("j-0123abcd", the id of jobs/j-0123abcd; not `job`, which Prometheus gives the
// scrape job) only on series of jobs that hold devices now (they vanish when it ends),
// `state` (the job states), `clock` (core, memory). A reading the device's telemetry
// source cannot give has no series. kMetricNames lists every family (for tests and the
// deploy/ files that name them).
//
// Thread-safe: Collect reads only thread-safe sources.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "daemon/telemetry/sampler.h"
#include "daemon/telemetry/usage_ledger.h"

namespace petabox::daemon {

// What describes a device in petabox_device_info.
struct DeviceInfo {
  std::string name;         // "CUDA:0"
  std::string kind;         // "cuda", "hip", "cpu"
  std::string description;  // product name or CPU model
};

class BoxMetrics : public prometheus::Collectable {
 public:
  // `sampler` may be null (telemetry off: no per-device sample series). The pointers must
  // outlive this object.
  BoxMetrics(std::vector<DeviceInfo> devices, const TelemetrySampler* sampler, const UsageLedger* ledger);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::vector<DeviceInfo> devices_;
  const TelemetrySampler* const sampler_;
  const UsageLedger* const ledger_;
};

// The exposition text (format 0.0.4) of `collectable`.
std::string SerializeMetrics(const prometheus::Collectable& collectable);

// Every metric family BoxMetrics may export.
extern const std::vector<std::string> kMetricNames;

}  // namespace petabox::daemon
