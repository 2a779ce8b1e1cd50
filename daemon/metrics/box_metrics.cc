#include "daemon/metrics/box_metrics.h"

#include <cctype>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "daemon/auth/principal.h"

namespace petabox::daemon {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily Family(const std::string& name, const std::string& help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void Add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void AddHistogram(MetricFamily& f, Labels labels, const BucketHistogram& h) {
  ClientMetric m;
  m.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back(b);
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = h.sum;
  f.metric.push_back(std::move(m));
}

// "j-0123abcd" from "jobs/j-0123abcd" (Prometheus keeps `job` for the scrape job).
std::string JobId(const std::string& name) { return name.substr(name.find('/') + 1); }

std::string StateLabel(v1::Job::State s) {
  std::string name = v1::Job::State_Name(s);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// One per-device gauge or counter read from a sample; absent readings have no series.
struct SampleSeries {
  const char* name;
  const char* help;
  MetricType type;
  std::function<std::optional<double>(const DeviceSample&)> value;
};

template <typename T>
std::optional<double> AsDouble(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

const std::vector<SampleSeries>& SampleTable() {
  static const std::vector<SampleSeries> table = {
      {"petabox_device_busy_ratio", "Fraction (0..1) of the last sampling interval in which the engine's kernels ran on the device.",
       MetricType::Gauge, [](const DeviceSample& s) { return s.busy_ratio; }},
      {"petabox_device_flops_per_second", "FLOP/s the device's kernels achieved over the last sampling interval (engine FLOP counts).",
       MetricType::Gauge, [](const DeviceSample& s) { return s.flops_per_second; }},
      {"petabox_device_peak_flops_per_second", "Highest FLOP/s achieved over one sampling interval since petaboxd started (measured, not the datasheet peak).",
       MetricType::Gauge, [](const DeviceSample& s) { return std::optional<double>(s.peak_flops_per_second); }},
      {"petabox_device_power_watts", "Power draw (board, or CPU package for CPU devices) from NVML, ROCm SMI or RAPL.",
       MetricType::Gauge, [](const DeviceSample& s) { return s.power_watts; }},
      {"petabox_device_energy_joules_total", "Energy the device (CPU devices: the CPU packages) used since petaboxd's first sample.",
       MetricType::Counter, [](const DeviceSample& s) { return s.energy_joules_total; }},
      {"petabox_device_flops_per_watt", "Achieved FLOP/s per watt over the last sampling interval (FLOPS/W; for devices sharing a power reading, the group's FLOP/s).",
       MetricType::Gauge, [](const DeviceSample& s) { return s.flops_per_watt; }},
      {"petabox_device_memory_used_bytes", "Device memory in use by all processes (NVML, ROCm SMI).",
       MetricType::Gauge, [](const DeviceSample& s) { return AsDouble(s.memory_used_bytes); }},
      {"petabox_device_memory_total_bytes", "Device memory in total.",
       MetricType::Gauge, [](const DeviceSample& s) { return AsDouble(s.memory_total_bytes); }},
      {"petabox_device_engine_memory_bytes", "Device memory the engine of the job holding the device has allocated.",
       MetricType::Gauge, [](const DeviceSample& s) { return std::optional<double>(static_cast<double>(s.engine_memory_bytes)); }},
      {"petabox_device_temperature_celsius", "Device temperature.",
       MetricType::Gauge, [](const DeviceSample& s) { return s.temperature_celsius; }},
      {"petabox_device_vendor_utilization_ratio", "The driver's own utilization figure (0..1), where it has one (NVML, ROCm SMI).",
       MetricType::Gauge, [](const DeviceSample& s) { return s.vendor_utilization_ratio; }},
      {"petabox_device_allocated", "1 while a job holds the device, else 0.",
       MetricType::Gauge, [](const DeviceSample& s) { return std::optional<double>(s.job.empty() ? 0 : 1); }},
  };
  return table;
}

void DeviceFamilies(const std::vector<DeviceInfo>& devices, const BoxSample* sample, const LedgerSnapshot& ledger,
                    std::vector<MetricFamily>* out) {
  auto info = Family("petabox_device_info", "The box's devices (value 1).", MetricType::Gauge);
  for (const DeviceInfo& d : devices) {
    std::string source;
    if (sample) {
      for (const DeviceSample& s : sample->devices) {
        if (s.name == d.name) source = s.telemetry_source;
      }
    }
    Add(info, {{"device", d.name}, {"kind", d.kind}, {"description", d.description}, {"telemetry_source", source}}, 1);
  }
  out->push_back(std::move(info));
  auto busy = Family("petabox_device_busy_seconds_total", "Seconds the engine's kernels ran on the device.", MetricType::Counter);
  auto flops = Family("petabox_device_flops_total", "FLOPs the device's kernels did (counted statically from each kernel).", MetricType::Counter);
  auto kernels = Family("petabox_device_kernels_total", "Kernels launched on the device.", MetricType::Counter);
  auto holder = Family("petabox_device_job_info", "The job holding the device (value 1; only while held).", MetricType::Gauge);
  for (const auto& [name, d] : ledger.devices) {
    Add(busy, {{"device", name}}, d.busy_seconds);
    Add(flops, {{"device", name}}, d.flops);
    Add(kernels, {{"device", name}}, static_cast<double>(d.kernels));
    // /metrics has no authentication: a tenant's job is not named (its tenant is).
    if (!d.job.empty() && d.tenant == kOwnerTenant) Add(holder, {{"device", name}, {"job_id", JobId(d.job)}, {"tenant", d.tenant}}, 1);
    if (!d.job.empty() && d.tenant != kOwnerTenant) Add(holder, {{"device", name}, {"tenant", d.tenant}}, 1);
  }
  for (MetricFamily* f : {&busy, &flops, &kernels, &holder}) out->push_back(std::move(*f));
  if (!sample) return;
  for (const SampleSeries& series : SampleTable()) {
    auto f = Family(series.name, series.help, series.type);
    for (const DeviceSample& s : sample->devices) {
      if (auto v = series.value(s)) Add(f, {{"device", s.name}}, *v);
    }
    out->push_back(std::move(f));
  }
  auto clock = Family("petabox_device_clock_hz", "Device clocks now (clock: core, memory).", MetricType::Gauge);
  for (const DeviceSample& s : sample->devices) {
    if (s.core_clock_hz) Add(clock, {{"device", s.name}, {"clock", "core"}}, *s.core_clock_hz);
    if (s.memory_clock_hz) Add(clock, {{"device", s.name}, {"clock", "memory"}}, *s.memory_clock_hz);
  }
  out->push_back(std::move(clock));
}

void JobFamilies(const LedgerSnapshot& ledger, std::vector<MetricFamily>* out) {
  auto samples = Family("petabox_job_samples_total", "Examples a running job trained (only jobs holding devices).", MetricType::Counter);
  auto steps = Family("petabox_job_steps_total", "Training steps a running job did.", MetricType::Counter);
  auto flops = Family("petabox_job_flops_total", "FLOPs of a running job's kernels.", MetricType::Counter);
  auto progress = Family("petabox_job_last_progress_timestamp_seconds",
                         "When a running job's step count last grew (Unix time; until its first step, when it took its devices).",
                         MetricType::Gauge);
  auto duration = Family("petabox_job_step_duration_seconds", "Wall time of a running job's training steps.", MetricType::Histogram);
  for (const auto& [name, j] : ledger.jobs) {
    if (j.tenant != kOwnerTenant) continue;  // tenants' jobs are not named here (their tenant totals are)
    const Labels labels = {{"job_id", JobId(name)}, {"tenant", j.tenant}};
    Add(samples, labels, j.samples);
    Add(steps, labels, j.steps);
    Add(flops, labels, j.flops);
    Add(progress, labels, j.last_progress_unix.value_or(j.start_unix));
    AddHistogram(duration, labels, j.step_seconds);
  }
  for (MetricFamily* f : {&samples, &steps, &flops, &progress, &duration}) out->push_back(std::move(*f));
  auto active = Family("petabox_jobs", "Jobs in each state that has not ended.", MetricType::Gauge);
  for (const auto& [state, n] : ledger.active_jobs) Add(active, {{"state", StateLabel(state)}}, static_cast<double>(n));
  auto finished = Family("petabox_jobs_finished_total", "Jobs that ended in each final state since petaboxd started.", MetricType::Counter);
  for (const auto& [state, n] : ledger.finished_jobs) Add(finished, {{"state", StateLabel(state)}}, static_cast<double>(n));
  auto queue = Family("petabox_queue_length", "Jobs waiting in QUEUED.", MetricType::Gauge);
  Add(queue, {}, static_cast<double>(ledger.active_jobs.count(v1::Job::QUEUED) ? ledger.active_jobs.at(v1::Job::QUEUED) : 0));
  auto wait = Family("petabox_queue_wait_seconds", "Time jobs waited in QUEUED before they started.", MetricType::Histogram);
  AddHistogram(wait, {}, ledger.queue_wait);
  for (MetricFamily* f : {&active, &finished, &queue, &wait}) out->push_back(std::move(*f));
}

void TenantFamilies(const LedgerSnapshot& ledger, bool measures_energy, std::vector<MetricFamily>* out) {
  auto seconds = Family("petabox_tenant_device_seconds_total", "Seconds a tenant's jobs held devices, summed over devices (metering).", MetricType::Counter);
  auto flops = Family("petabox_tenant_flops_total", "FLOPs of a tenant's jobs (metering).", MetricType::Counter);
  auto energy = Family("petabox_tenant_energy_joules_total", "Measured device energy while a tenant's jobs held the devices (metering; only on boxes with energy readings).", MetricType::Counter);
  for (const auto& [tenant, t] : ledger.tenants) {
    Add(seconds, {{"tenant", tenant}}, t.device_seconds);
    Add(flops, {{"tenant", tenant}}, t.flops);
    if (measures_energy) Add(energy, {{"tenant", tenant}}, t.energy_joules);
  }
  for (MetricFamily* f : {&seconds, &flops, &energy}) out->push_back(std::move(*f));
}

}  // namespace

const std::vector<std::string> kMetricNames = {
    "petabox_build_info", "petabox_telemetry_interval_seconds", "petabox_telemetry_samples_total",
    "petabox_device_info", "petabox_device_busy_seconds_total", "petabox_device_flops_total",
    "petabox_device_kernels_total", "petabox_device_job_info", "petabox_device_busy_ratio",
    "petabox_device_flops_per_second", "petabox_device_peak_flops_per_second", "petabox_device_power_watts",
    "petabox_device_energy_joules_total", "petabox_device_flops_per_watt", "petabox_device_memory_used_bytes",
    "petabox_device_memory_total_bytes", "petabox_device_engine_memory_bytes", "petabox_device_temperature_celsius",
    "petabox_device_vendor_utilization_ratio", "petabox_device_allocated", "petabox_device_clock_hz",
    "petabox_job_samples_total", "petabox_job_steps_total", "petabox_job_flops_total",
    "petabox_job_last_progress_timestamp_seconds", "petabox_job_step_duration_seconds", "petabox_jobs",
    "petabox_jobs_finished_total", "petabox_queue_length", "petabox_queue_wait_seconds",
    "petabox_tenant_device_seconds_total", "petabox_tenant_flops_total", "petabox_tenant_energy_joules_total",
};

BoxMetrics::BoxMetrics(std::vector<DeviceInfo> devices, const TelemetrySampler* sampler, const UsageLedger* ledger)
    : devices_(std::move(devices)), sampler_(sampler), ledger_(ledger) {}

std::vector<MetricFamily> BoxMetrics::Collect() const {
  std::vector<MetricFamily> out;
  auto build = Family("petabox_build_info", "petaboxd's version (value 1).", MetricType::Gauge);
  Add(build, {{"version", PETABOX_VERSION}}, 1);
  out.push_back(std::move(build));
  const BoxSample sample = sampler_ ? sampler_->Latest() : BoxSample{};
  auto interval = Family("petabox_telemetry_interval_seconds", "How often petaboxd samples its devices (0: telemetry off).", MetricType::Gauge);
  Add(interval, {}, sampler_ ? sampler_->interval_seconds() : 0);
  auto taken = Family("petabox_telemetry_samples_total", "Device samples taken since petaboxd started.", MetricType::Counter);
  Add(taken, {}, static_cast<double>(sample.sequence));
  out.push_back(std::move(interval));
  out.push_back(std::move(taken));
  const LedgerSnapshot ledger = ledger_->Snapshot();
  DeviceFamilies(devices_, sample.sequence > 0 ? &sample : nullptr, ledger, &out);
  JobFamilies(ledger, &out);
  TenantFamilies(ledger, sample.measures_energy(), &out);
  std::vector<MetricFamily> nonempty;
  for (MetricFamily& f : out) {
    if (!f.metric.empty()) nonempty.push_back(std::move(f));
  }
  return nonempty;
}

std::string SerializeMetrics(const prometheus::Collectable& collectable) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, collectable.Collect());
  return text.str();
}

}  // namespace petabox::daemon
