#include "client/cli/box_view.h"

#include <gtest/gtest.h>

namespace petabox::cli {
namespace {

TEST(BoxView, DevicesQueueVersion) {
  v1::Box box;
  box.set_daemon_version("0.1.0");
  box.set_queue_length(2);
  box.set_running_jobs(1);
  v1::Device* gpu = box.add_devices();
  gpu->set_name("CUDA:0");
  gpu->set_kind("cuda");
  gpu->set_description("NVIDIA H100 80GB HBM3");
  gpu->set_memory_total_bytes(int64_t{80} << 30);
  gpu->set_state(v1::Device::BUSY);
  gpu->set_job("jobs/j-1");
  v1::Device* cpu = box.add_devices();
  cpu->set_name("CPU:0");
  cpu->set_kind("cpu");
  cpu->set_description("AMD EPYC");
  cpu->set_state(v1::Device::IDLE);
  EXPECT_EQ(RenderBox(box),
            "NAME    KIND  DESCRIPTION              MEMORY  STATE  JOB\n"
            "CUDA:0  cuda  NVIDIA H100 80GB HBM3  80.0 GiB  BUSY   jobs/j-1\n"
            "CPU:0   cpu   AMD EPYC                      -  IDLE   -\n"
            "\n"
            "Queue:   2 queued, 1 running\n"
            "Daemon:  petaboxd 0.1.0\n");
  box.set_draining(true);
  EXPECT_NE(RenderBox(box).find("Draining"), std::string::npos);
}

TEST(BoxView, Telemetry) {
  v1::Box box;
  box.set_daemon_version("0.1.0");
  box.set_telemetry_interval_seconds(1);
  box.mutable_sample_time()->set_seconds(1795000000);
  v1::Device* gpu = box.add_devices();
  gpu->set_name("CUDA:0");
  gpu->set_state(v1::Device::BUSY);
  gpu->set_job("jobs/j-1");
  v1::DeviceTelemetry* t = gpu->mutable_telemetry();
  t->set_busy_ratio(0.934);
  t->set_flops_per_second(152.34e12);
  t->set_power_watts(412.4);
  t->set_flops_per_watt(369.4e9);
  t->set_memory_used_bytes(int64_t{61} << 30);
  t->set_memory_total_bytes(int64_t{80} << 30);
  t->set_temperature_celsius(71.2);
  v1::Device* cpu0 = box.add_devices();
  cpu0->set_name("CPU:0");
  cpu0->mutable_telemetry()->set_busy_ratio(0);
  cpu0->mutable_telemetry()->set_flops_per_second(5.66e9);
  cpu0->mutable_telemetry()->set_engine_memory_bytes(5 << 20);
  cpu0->mutable_telemetry()->set_memory_total_bytes(int64_t{16} << 30);
  cpu0->mutable_telemetry()->add_power_group("CPU:0");
  cpu0->mutable_telemetry()->add_power_group("CPU:1");
  v1::Device* cpu1 = box.add_devices();
  cpu1->set_name("CPU:1");
  cpu1->mutable_telemetry()->add_power_group("CPU:0");
  cpu1->mutable_telemetry()->add_power_group("CPU:1");
  v1::Device* none = box.add_devices();
  none->set_name("HIP:0");  // no sample yet
  v1::TenantUsage* owner = box.add_tenants();
  owner->set_tenant("owner");
  owner->set_device_seconds(5400);
  owner->set_flops(2.5e18);
  EXPECT_EQ(RenderBox(box),
            "NAME    BUSY  TFLOP/S        W  GFLOPS/W               MEMORY  TEMP  JOB\n"
            "CUDA:0   93%      152      412     369.4  61.0 GiB / 80.0 GiB   71C  jobs/j-1\n"
            "CPU:0     0%  0.00566        -         -   5.0 MiB / 16.0 GiB     -  -\n"
            "CPU:1      -        -  (CPU:0)         -                  0 B     -  -\n"
            "HIP:0      -        -        -         -                    -     -  -\n"
            "\n"
            "Queue:   0 queued, 0 running\n"
            "Daemon:  petaboxd 0.1.0\n"
            "Sampled: every 1 s, last at 2026-11-18T11:06:40Z\n"
            "Usage:   owner 1.50 device-hours, 2500 PFLOP (since petaboxd started)\n");
}

TEST(BoxView, NoDevices) { EXPECT_EQ(RenderBox(v1::Box()).find("No devices.\n"), 0u); }

TEST(BoxView, Datasets) {
  v1::ListDatasetsResponse list;
  v1::Dataset* dataset = list.add_datasets();
  dataset->set_name("datasets/fashion-mnist");
  dataset->add_files()->set_path("a");
  dataset->add_files()->set_path("b");
  dataset->set_total_bytes(30 << 20);
  dataset->mutable_create_time()->set_seconds(100);
  google::protobuf::Timestamp now;
  now.set_seconds(100 + 7200);
  EXPECT_EQ(DatasetsTable(list, now).Render(),
            "NAME                    FILES      SIZE  CREATED\n"
            "datasets/fashion-mnist      2  30.0 MiB  2h ago\n");
}

TEST(BoxView, Transfer) {
  EXPECT_EQ(RenderTransfer(12 << 20, 30 << 20, 80), "[===============>                      ] 12.0 MiB / 30.0 MiB  40%");
  EXPECT_EQ(RenderTransfer(5, 10, 20), "5 B / 10 B  50%");
  EXPECT_EQ(RenderTransfer(0, 0, 20), "0 B / 0 B  100%");
}

}  // namespace
}  // namespace petabox::cli
