// /metrics against a real petaboxd, scraped by a real Prometheus (Debian's `prometheus`,
// installed by deploy/install-deps.sh) started on loopback with deploy/prometheus/'s
// config pointed at the test daemon: PromQL through Prometheus's HTTP API sees FLOPs grow
// while a job trains, and the owner's metered totals after it ended.
#include <gtest/gtest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/daemon/integration/daemon_harness.h"
#include "tests/daemon/integration/http_harness.h"

namespace petabox::daemon::testing {
namespace {

namespace fs = std::filesystem;
using v1::Job;

// A Prometheus server for one test, on a free loopback port, with deploy/prometheus/'s
// files (the target and intervals rewritten for the test) in a temporary directory.
class PrometheusServer {
 public:
  explicit PrometheusServer(int target_port) {
    char tmpl[] = "/tmp/petabox-prometheus-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string config = ReadFile(std::string(PETABOX_SOURCE_DIR) + "/deploy/prometheus/prometheus.yml");
    config = std::regex_replace(config, std::regex("127\\.0\\.0\\.1:7481"), "127.0.0.1:" + std::to_string(target_port));
    config = std::regex_replace(config, std::regex("(scrape_interval|evaluation_interval): 5s"), "$1: 1s");
    config = std::regex_replace(config, std::regex("scrape_timeout: 4s"), "scrape_timeout: 1s");
    std::ofstream(dir_ + "/prometheus.yml") << config;
    fs::copy_file(std::string(PETABOX_SOURCE_DIR) + "/deploy/prometheus/alerts.yml", dir_ + "/alerts.yml");
    port_ = FreePort();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir_ + "/data",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        dir_ + "/prometheus.log");
  }
  ~PrometheusServer() {
    process_.reset();
    if (::testing::Test::HasFailure()) std::fprintf(stderr, "---- prometheus log ----\n%s\n", Log().c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Waits until Prometheus answers /-/ready.
  bool WaitReady(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->Running()) return false;
      if (HttpGet(port_, "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // The instant vector of a PromQL query as {labels -> value}; empty on errors.
  std::vector<std::pair<std::map<std::string, std::string>, double>> Query(const std::string& promql) {
    std::vector<std::pair<std::map<std::string, std::string>, double>> out;
    const HttpResult r = HttpGet(port_, "/api/v1/query?query=" + UrlEncode(promql));
    google::protobuf::Struct json;
    if (r.status != 200 || !google::protobuf::util::JsonStringToMessage(r.body, &json).ok()) return out;
    const auto& result = json.fields().at("data").struct_value().fields().at("result").list_value();
    for (const auto& sample : result.values()) {
      std::map<std::string, std::string> labels;
      for (const auto& [k, v] : sample.struct_value().fields().at("metric").struct_value().fields()) {
        labels[k] = v.string_value();
      }
      const auto& value = sample.struct_value().fields().at("value").list_value().values(1).string_value();
      out.emplace_back(labels, std::stod(value));
    }
    return out;
  }

  // Polls `promql` until it returns a sample (true) or `timeout` passes.
  bool WaitForResult(const std::string& promql, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Query(promql).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }

  std::string Log() const { return ReadFile(dir_ + "/prometheus.log"); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

TEST(DaemonMetricsTest, DeployPrometheusFilesAreValid) {
  ASSERT_TRUE(InPath("promtool")) << "promtool (Debian package prometheus) is missing: run deploy/install-deps.sh";
  const std::string dir = std::string(PETABOX_SOURCE_DIR) + "/deploy/prometheus";
  char log[] = "/tmp/petabox-promtool-XXXXXX";
  ::close(::mkstemp(log));
  {
    ChildProcess check({"promtool", "check", "config", dir + "/prometheus.yml"}, log);
    EXPECT_EQ(check.Wait(std::chrono::seconds(30)), 0) << ReadFile(log);
  }
  std::remove(log);
}

TEST(DaemonMetricsTest, PrometheusSeesFlopsDuringAJobAndTenantTotalsAfter) {
  ASSERT_TRUE(InPath("prometheus")) << "prometheus (Debian package) is missing: run deploy/install-deps.sh";
  DaemonHarness daemon("devices: [CPU:0]\ntelemetry: {interval_seconds: 0.5}\n");
  daemon.ServeHttp();
  daemon.Start();
  PrometheusServer prometheus(daemon.http_port());
  ASSERT_TRUE(prometheus.WaitReady(std::chrono::seconds(30))) << "prometheus did not start:\n" << prometheus.Log();
  ASSERT_TRUE(prometheus.WaitForResult("up{job=\"petabox\"} == 1", std::chrono::seconds(15)))
      << "prometheus does not scrape petaboxd";

  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.state() == Job::RUNNING && j.progress().step() > 0; },
                 std::chrono::seconds(60));
  // Achieved FLOP/s, from the engine's counts, while the job trains.
  EXPECT_TRUE(prometheus.WaitForResult("rate(petabox_device_flops_total{device=\"CPU:0\"}[3s]) > 0",
                                       std::chrono::seconds(20)));
  EXPECT_TRUE(prometheus.WaitForResult("petabox_device_busy_ratio{device=\"CPU:0\"} > 0", std::chrono::seconds(10)));
  const std::string id = job.name().substr(job.name().find('/') + 1);
  EXPECT_TRUE(prometheus.WaitForResult("rate(petabox_job_samples_total{job_id=\"" + id + "\"}[3s]) > 0",
                                       std::chrono::seconds(10)));
  EXPECT_TRUE(prometheus.WaitForResult("petabox_device_allocated{device=\"CPU:0\"} == 1", std::chrono::seconds(5)));
  EXPECT_TRUE(prometheus.WaitForResult("petabox_jobs{state=\"running\"} == 1", std::chrono::seconds(5)));

  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  Job cancelled;
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &cancelled).ok());
  daemon.WaitForState(job.name(), Job::CANCELLED, std::chrono::seconds(60));
  // After the job: the owner's metered totals, and no series of the job left.
  ASSERT_TRUE(prometheus.WaitForResult("petabox_jobs_finished_total{state=\"cancelled\"} == 1", std::chrono::seconds(15)));
  const auto flops = prometheus.Query("petabox_tenant_flops_total{tenant=\"owner\"}");
  ASSERT_EQ(flops.size(), 1u);
  EXPECT_GT(flops[0].second, 0);
  const auto seconds = prometheus.Query("petabox_tenant_device_seconds_total{tenant=\"owner\"}");
  ASSERT_EQ(seconds.size(), 1u);
  EXPECT_GT(seconds[0].second, 0);
  // Energy is metered where the device has an energy reading (RAPL here, when readable).
  const bool measured = !prometheus.Query("petabox_device_energy_joules_total").empty();
  EXPECT_EQ(prometheus.Query("petabox_tenant_energy_joules_total{tenant=\"owner\"}").size(), measured ? 1u : 0u);
  // The device's counter and the tenant's agree: one job, one tenant, one device.
  const auto device = prometheus.Query("petabox_device_flops_total{device=\"CPU:0\"}");
  ASSERT_EQ(device.size(), 1u);
  EXPECT_DOUBLE_EQ(device[0].second, flops[0].second);
  EXPECT_TRUE(prometheus.WaitForResult("petabox_device_allocated{device=\"CPU:0\"} == 0", std::chrono::seconds(5)));
  EXPECT_TRUE(prometheus.Query("petabox_job_samples_total").empty());
}

// The value of an unlabelled or fully labelled series in /metrics text ("name value"
// lines); -1 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  std::smatch m;
  const std::regex line("(^|\\n)" + std::regex_replace(series, std::regex(R"([{}\[\]().*+?^$|\\])"), R"(\$&)") +
                        " ([^\\n]+)");
  return std::regex_search(text, m, line) ? std::stod(m[2].str()) : -1;
}

// One device, one long job running and a second waiting: /metrics counts the waiting job
// in the queue gauges, and its wait in the queue-wait histogram once it starts. A queued
// job that is cancelled leaves the queue and counts as cancelled.
TEST(DaemonMetricsTest, QueuedJobsShowInQueueMetrics) {
  DaemonHarness daemon("devices: [CPU:0]\ntelemetry: {interval_seconds: 0.5}\n");
  daemon.ServeHttp();
  daemon.Start();
  auto metrics = [&] { return HttpGet(daemon.http_port(), "/metrics").body; };
  const Job first = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  daemon.WaitForState(first.name(), Job::RUNNING, std::chrono::seconds(60));
  const Job second = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20));
  const Job third = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20));
  std::string text = metrics();
  EXPECT_EQ(MetricValue(text, "petabox_queue_length"), 2) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs{state=\"queued\"}"), 2) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs{state=\"running\"}"), 1) << text;
  EXPECT_EQ(MetricValue(text, "petabox_queue_wait_seconds_count"), 1) << text;  // the first job's start

  v1::CancelJobRequest cancel;
  Job cancelled;
  cancel.set_name(third.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &cancelled).ok());
  daemon.WaitForState(third.name(), Job::CANCELLED, std::chrono::seconds(10));
  text = metrics();
  EXPECT_EQ(MetricValue(text, "petabox_queue_length"), 1) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs{state=\"queued\"}"), 1) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs_finished_total{state=\"cancelled\"}"), 1) << text;

  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the second waits at least this
  cancel.set_name(first.name());
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &cancelled).ok());
  daemon.WaitForState(first.name(), Job::CANCELLED, std::chrono::seconds(60));
  daemon.WaitFor(second.name(), [](const Job& j) { return j.state() != Job::QUEUED; }, std::chrono::seconds(60));
  text = metrics();
  EXPECT_EQ(MetricValue(text, "petabox_queue_length"), 0) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs{state=\"queued\"}"), 0) << text;
  EXPECT_EQ(MetricValue(text, "petabox_queue_wait_seconds_count"), 2) << text;
  EXPECT_GE(MetricValue(text, "petabox_queue_wait_seconds_sum"), 0.5) << text;
  EXPECT_EQ(MetricValue(text, "petabox_queue_wait_seconds_bucket{le=\"+Inf\"}"), 2) << text;
  daemon.WaitForState(second.name(), Job::SUCCEEDED, std::chrono::seconds(60));
  text = metrics();
  EXPECT_EQ(MetricValue(text, "petabox_jobs_finished_total{state=\"succeeded\"}"), 1) << text;
  EXPECT_EQ(MetricValue(text, "petabox_jobs_finished_total{state=\"cancelled\"}"), 2) << text;
}

// BoxService's live telemetry: GetBox carries the latest sample, WatchBox streams one Box
// per sample, and the running job's device shows its FLOP/s.
TEST(DaemonBoxTelemetryTest, GetBoxAndWatchBoxCarryTelemetry) {
  DaemonHarness daemon("devices: [CPU:0, CPU:1]\ntelemetry: {interval_seconds: 0.2}\n");
  daemon.Start();
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.state() == Job::RUNNING && j.progress().step() > 0; },
                 std::chrono::seconds(60));
  auto context = daemon.Context();
  auto reader = daemon.box().WatchBox(context.get(), v1::WatchBoxRequest());
  v1::Box box;
  int boxes = 0;
  double best_flops = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20) && reader->Read(&box)) {
    ++boxes;
    ASSERT_EQ(box.devices_size(), 2);
    EXPECT_DOUBLE_EQ(box.telemetry_interval_seconds(), 0.2);
    const v1::Device& d = box.devices(0);
    if (d.state() == v1::Device::BUSY && d.telemetry().has_flops_per_second()) {
      best_flops = std::max(best_flops, d.telemetry().flops_per_second());
      EXPECT_EQ(d.tenant(), "owner");
      EXPECT_EQ(d.telemetry().source(), box.devices(1).telemetry().source());
      EXPECT_FALSE(box.devices(1).telemetry().has_flops_per_watt());  // never the shared package's
    }
    if (boxes >= 10 && best_flops > 0) break;
  }
  context->TryCancel();
  reader->Finish();
  EXPECT_GE(boxes, 10);
  EXPECT_GT(best_flops, 0);

  v1::Box once;
  ASSERT_TRUE(daemon.box().GetBox(daemon.Context().get(), v1::GetBoxRequest(), &once).ok());
  EXPECT_TRUE(once.has_sample_time());
  EXPECT_GT(once.devices(0).telemetry().flops_total(), 0);
  ASSERT_EQ(once.tenants_size(), 1);
  EXPECT_EQ(once.tenants(0).tenant(), "owner");
  EXPECT_GT(once.tenants(0).device_seconds(), 0);
  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  Job cancelled;
  EXPECT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &cancelled).ok());
  daemon.WaitForState(job.name(), Job::CANCELLED, std::chrono::seconds(60));
}

// `petabox box` shows the telemetry table; `petabox box --watch` streams a box per sample.
TEST(DaemonBoxTelemetryTest, CliBoxAndWatch) {
  DaemonHarness daemon("devices: [CPU:0]\ntelemetry: {interval_seconds: 0.2}\n");
  daemon.Start();
  const std::string cli = std::string(PETABOX_CLI_BINARY) + " --server " + daemon.address() + " --token " +
                          daemon.token();
  auto run = [](const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
    ::pclose(pipe);
    return out;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a sample or two
  const std::string table = run(cli + " box");
  EXPECT_NE(table.find("BUSY"), std::string::npos) << table;
  EXPECT_NE(table.find("TFLOP/S"), std::string::npos) << table;
  EXPECT_NE(table.find("GFLOPS/W"), std::string::npos) << table;
  EXPECT_NE(table.find("Sampled: every 0.2 s"), std::string::npos) << table;
  const std::string lines = run("timeout 20 " + cli + " --json box --watch | head -n 3");
  int boxes = 0;
  for (size_t p = lines.find("\"telemetry\""); p != std::string::npos; p = lines.find("\"telemetry\"", p + 1)) ++boxes;
  EXPECT_GE(boxes, 3) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3) << lines;
}

// With telemetry off, workers count nothing and GetBox has no samples; /metrics still
// serves job counts.
TEST(DaemonBoxTelemetryTest, TelemetryOff) {
  DaemonHarness daemon("devices: [CPU:0]\ntelemetry: {interval_seconds: 0}\n");
  daemon.ServeHttp();
  daemon.Start();
  const Job job = daemon.WaitForState(daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20)).name(), Job::SUCCEEDED);
  v1::Box box;
  ASSERT_TRUE(daemon.box().GetBox(daemon.Context().get(), v1::GetBoxRequest(), &box).ok());
  EXPECT_FALSE(box.has_sample_time());
  EXPECT_FALSE(box.devices(0).has_telemetry());
  const std::string metrics = HttpGet(daemon.http_port(), "/metrics").body;
  EXPECT_NE(metrics.find("petabox_jobs_finished_total{state=\"succeeded\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("petabox_device_flops_total{device=\"CPU:0\"} 0"), std::string::npos);
  EXPECT_EQ(metrics.find("petabox_device_busy_ratio"), std::string::npos);
}

}  // namespace
}  // namespace petabox::daemon::testing
