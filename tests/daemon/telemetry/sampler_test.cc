// TelemetrySampler with a fake clock and fake telemetry sources: busy ratio and FLOP/s
// from the ledger's counters, power from a power reading or an energy counter, absent
// readings stay absent, devices sharing a source, energy attributed to tenants, history.
#include "daemon/telemetry/sampler.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/daemon/telemetry/fake_telemetry.h"

namespace petabox::daemon {
namespace {

using testing::FakeClock;
using testing::FakeTelemetry;
using testing::TestJob;
using v1::Job;

WorkerUsage Usage(const std::string& device, double busy, double flops) {
  WorkerUsage u;
  u.devices[device] = DeviceUsage{busy, flops, 1, std::nullopt};
  return u;
}

struct Box {
  FakeClock clock;
  std::shared_ptr<FakeTelemetry> gpu0 = std::make_shared<FakeTelemetry>("nvml");
  std::shared_ptr<FakeTelemetry> host = std::make_shared<FakeTelemetry>("rapl");
  UsageLedger ledger{{"CUDA:0", "CPU:0", "CPU:1"}, &clock};
  TelemetrySampler sampler{{{"CUDA:0", 24ll << 30, gpu0}, {"CPU:0", 64ll << 30, host}, {"CPU:1", 64ll << 30, host}},
                           &ledger, &clock, 4};

  const DeviceSample& Device(const BoxSample& b, const std::string& name) {
    for (const DeviceSample& d : b.devices) {
      if (d.name == name) return d;
    }
    throw std::runtime_error("no device " + name);
  }
};

TEST(TelemetrySamplerTest, FirstSampleHasNoRates) {
  Box box;
  box.sampler.SampleOnce();
  const BoxSample s = box.sampler.Latest();
  EXPECT_EQ(s.sequence, 1u);
  EXPECT_EQ(s.interval_seconds, 0);
  for (const DeviceSample& d : s.devices) {
    EXPECT_FALSE(d.busy_ratio) << d.name;
    EXPECT_FALSE(d.flops_per_second) << d.name;
    EXPECT_FALSE(d.power_watts) << d.name;
  }
}

TEST(TelemetrySamplerTest, BusyRatioAndFlopsFromKernelCounts) {
  Box box;
  box.ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CUDA:0"}));
  box.sampler.SampleOnce();
  box.clock.Advance(2);
  box.ledger.OnWorkerUsage("jobs/a", Usage("CUDA:0", 1.5, 8e12));
  box.sampler.SampleOnce();
  BoxSample s = box.sampler.Latest();
  const DeviceSample& gpu = box.Device(s, "CUDA:0");
  EXPECT_DOUBLE_EQ(s.interval_seconds, 2);
  EXPECT_DOUBLE_EQ(*gpu.busy_ratio, 0.75);
  EXPECT_DOUBLE_EQ(*gpu.flops_per_second, 4e12);
  EXPECT_DOUBLE_EQ(gpu.peak_flops_per_second, 4e12);
  EXPECT_DOUBLE_EQ(gpu.flops_total, 8e12);
  EXPECT_EQ(gpu.job, "jobs/a");
  EXPECT_EQ(gpu.tenant, "owner");
  EXPECT_DOUBLE_EQ(*box.Device(s, "CPU:0").busy_ratio, 0);
  // A report covering more than the interval is clamped to 1; the peak stays.
  box.clock.Advance(1);
  box.ledger.OnWorkerUsage("jobs/a", Usage("CUDA:0", 3.5, 9e12));
  box.sampler.SampleOnce();
  s = box.sampler.Latest();
  EXPECT_DOUBLE_EQ(*box.Device(s, "CUDA:0").busy_ratio, 1);
  EXPECT_DOUBLE_EQ(*box.Device(s, "CUDA:0").flops_per_second, 1e12);
  EXPECT_DOUBLE_EQ(box.Device(s, "CUDA:0").peak_flops_per_second, 4e12);
}

TEST(TelemetrySamplerTest, AbsentReadingsStayAbsent) {
  Box box;  // the fake sources give nothing
  box.sampler.SampleOnce();
  box.clock.Advance(1);
  box.sampler.SampleOnce();
  for (const DeviceSample& d : box.sampler.Latest().devices) {
    EXPECT_FALSE(d.power_watts) << d.name;
    EXPECT_FALSE(d.energy_joules_total) << d.name;
    EXPECT_FALSE(d.flops_per_watt) << d.name;
    EXPECT_FALSE(d.memory_used_bytes) << d.name;
    EXPECT_FALSE(d.temperature_celsius) << d.name;
    EXPECT_FALSE(d.core_clock_hz) << d.name;
    EXPECT_FALSE(d.vendor_utilization_ratio) << d.name;
    EXPECT_TRUE(d.memory_total_bytes) << d.name;  // from the device's properties
    EXPECT_TRUE(d.busy_ratio) << d.name;          // the engine's own count always exists
  }
}

TEST(TelemetrySamplerTest, GpuReadingsAndFlopsPerWatt) {
  Box box;
  box.gpu0->reading.power_watts = 400;
  box.gpu0->reading.energy_joules = 5000;
  box.gpu0->reading.memory_used_bytes = 3 << 20;
  box.gpu0->reading.memory_total_bytes = 24ll << 30;
  box.gpu0->reading.temperature_celsius = 71;
  box.gpu0->reading.sm_clock_hz = 2.5e9;
  box.gpu0->reading.utilization_ratio = 0.9;
  box.ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CUDA:0"}));
  box.sampler.SampleOnce();
  EXPECT_DOUBLE_EQ(*box.Device(box.sampler.Latest(), "CUDA:0").energy_joules_total, 0);  // counts from here
  box.clock.Advance(2);
  box.gpu0->reading.energy_joules = 5800;
  box.ledger.OnWorkerUsage("jobs/a", Usage("CUDA:0", 2, 1.6e14));
  box.sampler.SampleOnce();
  const DeviceSample& gpu = box.Device(box.sampler.Latest(), "CUDA:0");
  EXPECT_DOUBLE_EQ(*gpu.power_watts, 400);  // the source's own reading wins
  EXPECT_DOUBLE_EQ(*gpu.energy_joules_total, 800);
  EXPECT_DOUBLE_EQ(*gpu.flops_per_watt, 8e13 / 400);
  EXPECT_EQ(*gpu.memory_used_bytes, 3 << 20);
  EXPECT_DOUBLE_EQ(*gpu.temperature_celsius, 71);
  EXPECT_DOUBLE_EQ(*gpu.core_clock_hz, 2.5e9);
  EXPECT_FALSE(gpu.memory_clock_hz);
  EXPECT_DOUBLE_EQ(*gpu.vendor_utilization_ratio, 0.9);
  EXPECT_TRUE(gpu.power_group.empty());
  EXPECT_DOUBLE_EQ(box.ledger.Snapshot().tenants.at("owner").energy_joules, 800);
}

TEST(TelemetrySamplerTest, SharedSourceIsReadOnceAndSplitByKernelTime) {
  Box box;
  box.host->reading.energy_joules = 100;  // RAPL: an energy counter, no power
  box.ledger.OnJobState(TestJob("jobs/a", Job::STARTING, {"CPU:0", "CPU:1"}));
  box.sampler.SampleOnce();
  EXPECT_EQ(box.host->reads, 1);
  box.clock.Advance(4);
  box.host->reading.energy_joules = 500;
  WorkerUsage u = Usage("CPU:0", 3, 4e10);
  u.devices["CPU:1"] = DeviceUsage{1, 4e10, 1, std::nullopt};
  box.ledger.OnWorkerUsage("jobs/a", u);
  box.sampler.SampleOnce();
  EXPECT_EQ(box.host->reads, 2);
  const BoxSample s = box.sampler.Latest();
  const DeviceSample& first = box.Device(s, "CPU:0");
  const DeviceSample& second = box.Device(s, "CPU:1");
  EXPECT_DOUBLE_EQ(*first.power_watts, 100);  // 400 J over 4 s
  EXPECT_DOUBLE_EQ(*first.energy_joules_total, 400);
  EXPECT_DOUBLE_EQ(*first.flops_per_watt, 2e10 / 100);  // both devices' FLOP/s over the package's watts
  EXPECT_FALSE(second.power_watts);
  EXPECT_FALSE(second.flops_per_watt);
  EXPECT_EQ(first.power_group, (std::vector<std::string>{"CPU:0", "CPU:1"}));
  EXPECT_EQ(second.power_group, first.power_group);
  EXPECT_DOUBLE_EQ(box.ledger.Snapshot().tenants.at("owner").energy_joules, 400);
}

TEST(TelemetrySamplerTest, IdleEnergyIsNobodys) {
  Box box;
  box.gpu0->reading.energy_joules = 0;
  box.sampler.SampleOnce();
  box.clock.Advance(1);
  box.gpu0->reading.energy_joules = 60;
  box.sampler.SampleOnce();
  EXPECT_DOUBLE_EQ(*box.Device(box.sampler.Latest(), "CUDA:0").power_watts, 60);
  EXPECT_TRUE(box.ledger.Snapshot().tenants.empty());
}

TEST(TelemetrySamplerTest, CounterResetGivesNoNegativePower) {
  Box box;
  box.gpu0->reading.energy_joules = 1000;
  box.sampler.SampleOnce();
  box.clock.Advance(1);
  box.gpu0->reading.energy_joules = 10;  // the driver reloaded
  box.sampler.SampleOnce();
  const DeviceSample& gpu = box.Device(box.sampler.Latest(), "CUDA:0");
  EXPECT_DOUBLE_EQ(*gpu.power_watts, 0);
  EXPECT_DOUBLE_EQ(*gpu.energy_joules_total, 0);
}

TEST(TelemetrySamplerTest, HistoryIsBoundedAndOrdered) {
  Box box;
  for (int i = 0; i < 6; ++i) {
    box.sampler.SampleOnce();
    box.clock.Advance(1);
  }
  const std::vector<BoxSample> h = box.sampler.History();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.front().sequence, 3u);
  EXPECT_EQ(h.back().sequence, 6u);
  EXPECT_EQ(box.sampler.WaitForSample(5, std::chrono::milliseconds(0)), 6u);
}

TEST(TelemetrySamplerTest, TimerSamplesUntilStopped) {
  Box box;
  boost::asio::io_context io;
  box.sampler.Start(io, 0.02);
  std::thread loop([&io] { io.run_for(std::chrono::milliseconds(300)); });
  EXPECT_GE(box.sampler.WaitForSample(0, std::chrono::seconds(5)), 1u);
  loop.join();
  box.sampler.Stop();
  const uint64_t taken = box.sampler.Latest().sequence;
  EXPECT_GE(taken, 5u);
  EXPECT_LE(taken, 20u);
  // Stop wakes waiters at once.
  const auto start = std::chrono::steady_clock::now();
  box.sampler.WaitForSample(taken, std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace petabox::daemon
