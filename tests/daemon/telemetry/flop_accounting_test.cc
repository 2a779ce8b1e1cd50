// FLOP accounting as the daemon sees it: the worker's UsageMeter counts the engine's
// per-kernel FLOPs by device, and a matmul of known size reports 2*M*N*K (one multiply and
// one add per term), through the `usage` event (a petabox.v1.UsageReport) the daemon reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/supervisor/event_reader.h"
#include "daemon/telemetry/worker_usage.h"
#include "daemon/worker/events.h"
#include "daemon/worker/usage_meter.h"
#include "engine/tensor.h"

namespace petabox::daemon {
namespace {

Tensor Filled(int64_t rows, int64_t cols, float base, const std::string& device) {
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < v.size(); ++i) v[i] = base + static_cast<float>(i % 7);
  Tensor t = Tensor::FromData(v.data(), {rows, cols}, DType::kFloat32, device);
  EXPECT_TRUE(t.Realize().ok());
  return t;
}

struct MatmulCase {
  int64_t m, n, k;
};

class MatmulFlopsTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulFlopsTest, ReportsTwoMnkFlops) {
  const auto [m, n, k] = GetParam();
  Tensor a = Filled(m, k, 1, "CPU:0");
  Tensor b = Filled(k, n, 2, "CPU:0");
  worker::UsageMeter meter({"CPU:0"}, 1.0);
  Tensor c = a.Matmul(b);
  ASSERT_TRUE(c.Realize().ok());
  const worker::DeviceUsageCounters counted = meter.Devices().at("CPU:0");
  EXPECT_EQ(counted.flops, 2.0 * m * n * k) << m << "x" << k << " @ " << k << "x" << n;
  EXPECT_GE(counted.kernels, 1);
  EXPECT_GT(counted.busy_seconds, 0);
}

INSTANTIATE_TEST_SUITE_P(Sizes, MatmulFlopsTest,
                         ::testing::Values(MatmulCase{16, 16, 16}, MatmulCase{64, 48, 32}, MatmulCase{33, 17, 130}));

TEST(UsageMeterTest, CountsOnlyItsDevices) {
  Tensor a = Filled(8, 8, 1, "CPU:1");
  worker::UsageMeter meter({"CPU:0"}, 1.0);
  ASSERT_TRUE(a.Matmul(a).Realize().ok());
  EXPECT_EQ(meter.Devices().at("CPU:0").flops, 0);
  EXPECT_EQ(meter.Devices().at("CPU:0").kernels, 0);
}

TEST(UsageMeterTest, MeteredDevicesAreCanonical) {
  EXPECT_EQ(worker::MeteredDevices({"cpu:1", "CPU"}), (std::vector<std::string>{"CPU:1", "CPU:0"}));
  EXPECT_EQ(worker::MeteredDevices({}).size(), 1u);
}

// The event the worker writes is the one the daemon reads: devices, FLOPs, steps and the
// step-duration buckets survive the trip.
TEST(UsageMeterTest, UsageEventRoundTrip) {
  double now = 100;
  Tensor a = Filled(32, 32, 1, "CPU:0");
  worker::UsageMeter meter({"CPU:0", "CPU:1"}, 0.5, [&now] { return now; });
  ASSERT_TRUE(a.Matmul(a).Realize().ok());
  meter.OnStep(0.003, 32);
  meter.OnStep(0.2, 32);
  meter.OnStep(100, 16);
  char path[] = "/tmp/usage-event-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    auto writer = worker::EventWriter::Open(path, worker::EventFormat::kProto);
    ASSERT_TRUE(writer.ok());
    EXPECT_FALSE(meter.MaybeEmit(writer->get()));  // the interval has not passed
    now += 0.5;
    EXPECT_TRUE(meter.MaybeEmit(writer->get()));
    EXPECT_FALSE(meter.MaybeEmit(writer->get()));
    EXPECT_TRUE(meter.MaybeEmit(writer->get(), /*force=*/true));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  ASSERT_TRUE(reader.Feed(bytes.str(), &events).ok());
  ASSERT_TRUE(reader.Finish().ok());
  for (const v1::WorkerEvent& event : events) {
    ASSERT_TRUE(event.has_usage()) << event.DebugString();
    const WorkerUsage usage = ToWorkerUsage(event.usage());
    ASSERT_EQ(usage.devices.size(), 2u);
    EXPECT_EQ(usage.devices.at("CPU:0").flops, 2.0 * 32 * 32 * 32);
    EXPECT_EQ(usage.devices.at("CPU:1").flops, 0);
    EXPECT_TRUE(usage.devices.at("CPU:0").engine_memory_bytes.has_value());
    EXPECT_EQ(usage.steps, 3);
    EXPECT_EQ(usage.samples, 80);
    EXPECT_DOUBLE_EQ(usage.step_seconds_sum, 100.203);
    ASSERT_EQ(usage.step_buckets.size(), worker::kStepSecondsBuckets.size() + 1);
    EXPECT_EQ(usage.step_buckets[2], 1u);   // 0.003 s: (0.0025, 0.005]
    EXPECT_EQ(usage.step_buckets[7], 1u);   // 0.2 s: (0.1, 0.25]
    EXPECT_EQ(usage.step_buckets.back(), 1u);  // 100 s: beyond the last bound
  }
  EXPECT_EQ(events.size(), 2u);
  std::remove(path);
}

// Absent readings stay absent; an empty report is an empty usage.
TEST(WorkerUsageTest, TypedReportAsValues) {
  v1::UsageReport report;
  v1::DeviceUsageReport* device = report.add_devices();
  device->set_device("CUDA:1");
  device->set_busy_seconds(2.5);
  device->set_launches(7);
  WorkerUsage usage = ToWorkerUsage(report);
  ASSERT_EQ(usage.devices.count("CUDA:1"), 1u);
  EXPECT_EQ(usage.devices.at("CUDA:1").kernels, 7);
  EXPECT_DOUBLE_EQ(usage.devices.at("CUDA:1").busy_seconds, 2.5);
  EXPECT_FALSE(usage.devices.at("CUDA:1").engine_memory_bytes.has_value());
  EXPECT_TRUE(usage.step_buckets.empty());
  EXPECT_TRUE(ToWorkerUsage(v1::UsageReport()).devices.empty());
}

}  // namespace
}  // namespace petabox::daemon
