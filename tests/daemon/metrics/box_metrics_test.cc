// BoxMetrics' exposition: names, types, labels, absent readings, job series that vanish
// with their job; and the deploy/ files (Grafana dashboard, alert rules) name only
// metrics petaboxd exports.
#include "daemon/metrics/box_metrics.h"

#include <gtest/gtest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>

#include "tests/daemon/telemetry/fake_telemetry.h"

namespace petabox::daemon {
namespace {

using testing::FakeClock;
using testing::FakeTelemetry;
using testing::TestJob;
using v1::Job;

bool Has(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

struct Fixture {
  FakeClock clock;
  std::shared_ptr<FakeTelemetry> gpu = std::make_shared<FakeTelemetry>("nvml");
  std::shared_ptr<FakeTelemetry> cpu = std::make_shared<FakeTelemetry>("none");
  UsageLedger ledger{{"CUDA:0", "CPU:0"}, &clock};
  TelemetrySampler sampler{{{"CUDA:0", 0, gpu}, {"CPU:0", 1 << 30, cpu}}, &ledger, &clock};
  BoxMetrics metrics{{{"CUDA:0", "cuda", "NVIDIA RTX 4090"}, {"CPU:0", "cpu", "CPU"}}, &sampler, &ledger};
};

TEST(BoxMetricsTest, ExportsDeviceJobAndTenantSeries) {
  Fixture f;
  f.gpu->reading.power_watts = 300;
  f.gpu->reading.energy_joules = 10;
  f.gpu->reading.temperature_celsius = 60;
  f.gpu->reading.sm_clock_hz = 2e9;
  f.ledger.OnJobState(TestJob("jobs/j-1", Job::QUEUED));
  f.ledger.OnJobState(TestJob("jobs/j-1", Job::STARTING, {"CUDA:0"}));
  f.sampler.SampleOnce();
  f.clock.Advance(1);
  f.gpu->reading.energy_joules = 310;
  WorkerUsage u;
  u.devices["CUDA:0"] = DeviceUsage{0.5, 6e13, 10, 1 << 20};
  u.steps = 3;
  u.samples = 96;
  u.step_seconds_sum = 0.3;
  u.step_buckets.assign(StepSecondsBounds().size() + 1, 0);
  u.step_buckets[6] = 3;  // (0.05, 0.1]
  f.ledger.OnWorkerUsage("jobs/j-1", u);
  f.sampler.SampleOnce();
  const std::string text = SerializeMetrics(f.metrics);
  EXPECT_TRUE(Has(text, "petabox_build_info{version=\"" PETABOX_VERSION "\"} 1")) << text;
  EXPECT_TRUE(Has(text, "# TYPE petabox_device_flops_total counter"));
  EXPECT_TRUE(Has(text, "petabox_device_flops_total{device=\"CUDA:0\"} 60000000000000"));
  EXPECT_TRUE(Has(text, "petabox_device_busy_ratio{device=\"CUDA:0\"} 0.5"));
  EXPECT_TRUE(Has(text, "petabox_device_flops_per_second{device=\"CUDA:0\"} 60000000000000"));
  EXPECT_TRUE(Has(text, "petabox_device_power_watts{device=\"CUDA:0\"} 300"));
  EXPECT_TRUE(Has(text, "petabox_device_energy_joules_total{device=\"CUDA:0\"} 300"));
  EXPECT_TRUE(Has(text, "petabox_device_flops_per_watt{device=\"CUDA:0\"} 200000000000"));
  EXPECT_TRUE(Has(text, "petabox_device_clock_hz{device=\"CUDA:0\",clock=\"core\"} 2000000000"));
  EXPECT_TRUE(Has(text, "petabox_device_engine_memory_bytes{device=\"CUDA:0\"} 1048576"));
  EXPECT_TRUE(Has(text, "petabox_device_allocated{device=\"CUDA:0\"} 1"));
  EXPECT_TRUE(Has(text, "petabox_device_job_info{device=\"CUDA:0\",job_id=\"j-1\",tenant=\"owner\"} 1"));
  EXPECT_TRUE(Has(text, "petabox_device_info{device=\"CUDA:0\",kind=\"cuda\",description=\"NVIDIA RTX 4090\",telemetry_source=\"nvml\"} 1"));
  EXPECT_TRUE(Has(text, "petabox_job_samples_total{job_id=\"j-1\",tenant=\"owner\"} 96"));
  EXPECT_TRUE(Has(text, "petabox_job_step_duration_seconds_bucket{job_id=\"j-1\",tenant=\"owner\",le=\"0.1\"} 3"));
  EXPECT_TRUE(Has(text, "petabox_job_step_duration_seconds_count{job_id=\"j-1\",tenant=\"owner\"} 3"));
  EXPECT_TRUE(Has(text, "petabox_jobs{state=\"starting\"} 1"));
  EXPECT_TRUE(Has(text, "petabox_queue_wait_seconds_count 1"));
  EXPECT_TRUE(Has(text, "petabox_tenant_flops_total{tenant=\"owner\"} 60000000000000"));
  EXPECT_TRUE(Has(text, "petabox_tenant_energy_joules_total{tenant=\"owner\"} 300"));
  EXPECT_TRUE(Has(text, "petabox_tenant_device_seconds_total{tenant=\"owner\"} 1"));
  // The CPU device has no power source: no series, not a zero.
  EXPECT_FALSE(Has(text, "petabox_device_power_watts{device=\"CPU:0\"}"));
  EXPECT_FALSE(Has(text, "petabox_device_temperature_celsius{device=\"CPU:0\"}"));
  EXPECT_TRUE(Has(text, "petabox_device_busy_ratio{device=\"CPU:0\"} 0"));
}

TEST(BoxMetricsTest, JobSeriesEndWithTheJob) {
  Fixture f;
  f.ledger.OnJobState(TestJob("jobs/j-2", Job::STARTING, {"CPU:0"}));
  EXPECT_TRUE(Has(SerializeMetrics(f.metrics), "job_id=\"j-2\""));
  f.clock.Advance(2);
  f.ledger.OnJobState(TestJob("jobs/j-2", Job::FAILED));
  const std::string text = SerializeMetrics(f.metrics);
  EXPECT_FALSE(Has(text, "j-2")) << text;
  EXPECT_TRUE(Has(text, "petabox_jobs_finished_total{state=\"failed\"} 1"));
  EXPECT_TRUE(Has(text, "petabox_tenant_device_seconds_total{tenant=\"owner\"} 2"));
}

TEST(BoxMetricsTest, TelemetryOffKeepsCountersAndJobs) {
  FakeClock clock;
  UsageLedger ledger({"CPU:0"}, &clock);
  BoxMetrics metrics({{"CPU:0", "cpu", "CPU"}}, nullptr, &ledger);
  const std::string text = SerializeMetrics(metrics);
  EXPECT_TRUE(Has(text, "petabox_telemetry_interval_seconds 0"));
  EXPECT_TRUE(Has(text, "petabox_device_flops_total{device=\"CPU:0\"} 0"));
  EXPECT_TRUE(Has(text, "petabox_queue_length 0"));
  EXPECT_FALSE(Has(text, "petabox_device_busy_ratio"));
}

TEST(BoxMetricsTest, EveryExportedFamilyIsListedAndNamedByConvention) {
  Fixture f;
  f.gpu->reading = {300.0, 10.0, 0.5, 1, 2, 50.0, 1e9, 1e9};
  f.ledger.OnJobState(TestJob("jobs/j-3", Job::STARTING, {"CUDA:0"}));
  f.sampler.SampleOnce();
  f.clock.Advance(1);
  f.sampler.SampleOnce();
  const std::set<std::string> listed(kMetricNames.begin(), kMetricNames.end());
  std::set<std::string> exported;
  for (const prometheus::MetricFamily& family : f.metrics.Collect()) {
    exported.insert(family.name);
    EXPECT_TRUE(listed.count(family.name)) << family.name;
    EXPECT_EQ(family.name.rfind("petabox_", 0), 0u);
    const bool counter = family.type == prometheus::MetricType::Counter;
    EXPECT_EQ(counter, family.name.size() > 6 && family.name.substr(family.name.size() - 6) == "_total") << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
  }
  EXPECT_EQ(exported, listed);
}

// ---- deploy/: the dashboard and the alerts name only what petaboxd exports.

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(PETABOX_SOURCE_DIR) + "/" + rel);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The petabox_ metric names in a PromQL expression, histogram suffixes removed.
std::set<std::string> MetricsIn(const std::string& expr) {
  std::set<std::string> out;
  static const std::regex name("petabox_[a-z_]+");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator(); ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      const std::string s = suffix;
      const std::string base = n.size() > s.size() ? n.substr(0, n.size() - s.size()) : "";
      if (n.size() > s.size() && n.substr(n.size() - s.size()) == s &&
          std::find(kMetricNames.begin(), kMetricNames.end(), base) != kMetricNames.end()) {
        n = base;
      }
    }
    out.insert(n);
  }
  return out;
}

void CollectExprs(const google::protobuf::Value& v, std::vector<std::string>* out) {
  if (v.has_struct_value()) {
    for (const auto& [key, child] : v.struct_value().fields()) {
      if (key == "expr" && child.has_string_value()) out->push_back(child.string_value());
      else CollectExprs(child, out);
    }
  } else if (v.has_list_value()) {
    for (const auto& child : v.list_value().values()) CollectExprs(child, out);
  }
}

TEST(DeployFilesTest, DashboardNamesOnlyExportedMetrics) {
  const std::string text = ReadSource("deploy/grafana/petabox-dashboard.json");
  ASSERT_FALSE(text.empty());
  google::protobuf::Value root;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text, &root).ok());
  std::vector<std::string> exprs;
  CollectExprs(root, &exprs);
  ASSERT_GE(exprs.size(), 15u);
  std::set<std::string> used;
  for (const std::string& e : exprs) {
    // Boxes are selected by the `box` label prometheus.yml gives each target, as the alerts do.
    EXPECT_NE(e.find("box=~\"$box\""), std::string::npos) << e;
    EXPECT_EQ(e.find("instance"), std::string::npos) << e;
    for (const std::string& m : MetricsIn(e)) {
      EXPECT_NE(std::find(kMetricNames.begin(), kMetricNames.end(), m), kMetricNames.end()) << m << " in " << e;
      used.insert(m);
    }
  }
  // The panels: devices, FLOPS, watts, FLOPS/W, memory, queue, jobs' samples/s, tenants.
  for (const char* m : {"petabox_device_busy_ratio", "petabox_device_flops_total", "petabox_device_power_watts",
                        "petabox_device_energy_joules_total", "petabox_device_memory_used_bytes",
                        "petabox_queue_length", "petabox_job_samples_total", "petabox_tenant_device_seconds_total",
                        "petabox_tenant_flops_total", "petabox_tenant_energy_joules_total"}) {
    EXPECT_TRUE(used.count(m)) << m;
  }
}

TEST(DeployFilesTest, AlertsNameOnlyExportedMetrics) {
  YAML::Node rules = YAML::Load(ReadSource("deploy/prometheus/alerts.yml"));
  std::set<std::string> alerts;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      alerts.insert(rule["alert"].as<std::string>());
      for (const std::string& m : MetricsIn(rule["expr"].as<std::string>())) {
        EXPECT_NE(std::find(kMetricNames.begin(), kMetricNames.end(), m), kMetricNames.end()) << m;
      }
    }
  }
  for (const char* a : {"PetaboxDeviceIdleWhileAllocated", "PetaboxJobStuck", "PetaboxJobFailed", "PetaboxDeviceHot"}) {
    EXPECT_TRUE(alerts.count(a)) << a;
  }
}

// The README's metrics table names every family /metrics serves, and nothing else.
TEST(BoxMetricsTest, ReadmeDocumentsEveryMetric) {
  std::ifstream in(std::string(PETABOX_SOURCE_DIR) + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(readme.empty());
  std::set<std::string> documented;
  std::regex row("\n\\| `(petabox_[a-z_]+)` \\|");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), row); it != std::sregex_iterator(); ++it)
    documented.insert((*it)[1]);
  const std::set<std::string> served(kMetricNames.begin(), kMetricNames.end());
  for (const std::string& m : served) EXPECT_TRUE(documented.count(m)) << m << " is served but not in README.md's table";
  for (const std::string& m : documented) EXPECT_TRUE(served.count(m)) << m << " is in README.md's table but not served";
}

}  // namespace
}  // namespace petabox::daemon
