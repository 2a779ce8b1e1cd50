// Telemetry: absent sources give absent readings, never a crash; RAPL's counter logic on a
// fake powercap tree; real sources checked for consistency only (what is readable depends
// on the machine).
#include "devices/telemetry/telemetry.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "devices/gpu/cuda_api.h"
#include "devices/gpu/gpu_device.h"
#include "devices/telemetry/nvml_telemetry.h"
#include "devices/telemetry/rapl_telemetry.h"
#include "devices/telemetry/rocm_smi_telemetry.h"

namespace petabox {
namespace {

namespace fs = std::filesystem;

bool AllAbsent(const TelemetryReading& r) {
  return !r.power_watts && !r.energy_joules && !r.utilization_ratio && !r.memory_used_bytes &&
         !r.memory_total_bytes && !r.temperature_celsius && !r.sm_clock_hz && !r.mem_clock_hz;
}

// Whatever is present must be physically plausible.
void ExpectPlausible(const TelemetryReading& r) {
  if (r.power_watts) {
    EXPECT_GE(*r.power_watts, 0.0);
  }
  if (r.energy_joules) {
    EXPECT_GE(*r.energy_joules, 0.0);
  }
  if (r.utilization_ratio) {
    EXPECT_GE(*r.utilization_ratio, 0.0);
    EXPECT_LE(*r.utilization_ratio, 1.0);
  }
  if (r.memory_total_bytes) {
    EXPECT_GT(*r.memory_total_bytes, 0);
  }
  if (r.memory_used_bytes && r.memory_total_bytes) {
    EXPECT_LE(*r.memory_used_bytes, *r.memory_total_bytes);
  }
  if (r.temperature_celsius) {
    EXPECT_GT(*r.temperature_celsius, -50.0);
    EXPECT_LT(*r.temperature_celsius, 150.0);
  }
  if (r.sm_clock_hz) {
    EXPECT_GT(*r.sm_clock_hz, 0.0);
  }
  if (r.mem_clock_hz) {
    EXPECT_GT(*r.mem_clock_hz, 0.0);
  }
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

TEST(TelemetryTest, MissingNvmlIsUnavailable) {
  auto telemetry = NvmlTelemetry::OpenByIndex(0, "libpetabox-no-such-nvml.so.1");
  ASSERT_FALSE(telemetry.ok());
  EXPECT_EQ(telemetry.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(telemetry.status().message().rfind("libpetabox-no-such-nvml.so.1 not found: ", 0), 0u);
}

TEST(TelemetryTest, MissingRocmSmiIsUnavailable) {
  auto telemetry = RocmSmiTelemetry::Open(0, {"libpetabox-no-such-rocm-smi.so"});
  ASSERT_FALSE(telemetry.ok());
  EXPECT_EQ(telemetry.status().code(), StatusCode::kUnavailable);
}

TEST(TelemetryTest, UnknownKindHasNoReadings) {
  std::unique_ptr<DeviceTelemetry> telemetry = OpenDeviceTelemetry("TPU", 0);
  ASSERT_NE(telemetry, nullptr);
  EXPECT_EQ(telemetry->source(), "none");
  EXPECT_TRUE(AllAbsent(telemetry->Read()));
}

// On this machine: NVML, ROCm SMI and RAPL may each be there or not. A source that is
// absent reads nothing; one that is present reads plausible values.
TEST(TelemetryTest, EveryKindOpensWithoutCrashing) {
  for (const char* kind : {"CUDA", "HIP", "CPU"}) {
    std::unique_ptr<DeviceTelemetry> telemetry = OpenDeviceTelemetry(kind, 0);
    ASSERT_NE(telemetry, nullptr) << kind;
    TelemetryReading reading = telemetry->Read();
    if (telemetry->source() == "none") {
      EXPECT_TRUE(AllAbsent(reading)) << kind;
      EXPECT_FALSE(static_cast<NoTelemetry&>(*telemetry).why().empty()) << kind;
    } else {
      ExpectPlausible(reading);
    }
  }
}

TEST(TelemetryTest, CpuTelemetryNeverInventsPower) {
  std::unique_ptr<DeviceTelemetry> telemetry = OpenDeviceTelemetry("CPU", 0);
  TelemetryReading first = telemetry->Read();
  TelemetryReading second = telemetry->Read();
  EXPECT_FALSE(first.power_watts.has_value());
  EXPECT_FALSE(first.utilization_ratio.has_value());
  if (telemetry->source() == "rapl") {
    ASSERT_TRUE(first.energy_joules && second.energy_joules);
    EXPECT_GE(*second.energy_joules, *first.energy_joules);
  } else {
    EXPECT_EQ(telemetry->source(), "none");
    EXPECT_FALSE(first.energy_joules.has_value());
  }
}

class RaplFakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("petabox-powercap-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    WriteFile(root_ / "intel-rapl:0" / "energy_uj", "1000");
    WriteFile(root_ / "intel-rapl:0" / "max_energy_range_uj", "10000");
    WriteFile(root_ / "intel-rapl:0:0" / "energy_uj", "999999");  // a sub-zone: ignored
    WriteFile(root_ / "intel-rapl:1" / "energy_uj", "500");        // no range file
    WriteFile(root_ / "intel-rapl-mmio:0" / "energy_uj", "777");   // not a package: ignored
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(RaplFakeTreeTest, SumsPackagesAndUnwrapsCounters) {
  StatusOr<std::unique_ptr<RaplTelemetry>> rapl = RaplTelemetry::Open({root_.string()});
  ASSERT_TRUE(rapl.ok()) << rapl.status().ToString();
  ASSERT_EQ((*rapl)->zones().size(), 2u);
  EXPECT_EQ((*rapl)->source(), "rapl");
  TelemetryReading r = (*rapl)->Read();
  ASSERT_TRUE(r.energy_joules.has_value());
  EXPECT_DOUBLE_EQ(*r.energy_joules, 1500e-6);
  EXPECT_FALSE(r.power_watts.has_value());

  WriteFile(root_ / "intel-rapl:0" / "energy_uj", "9000");  // +8000
  EXPECT_DOUBLE_EQ(*(*rapl)->Read().energy_joules, 9500e-6);
  WriteFile(root_ / "intel-rapl:0" / "energy_uj", "200");  // wrapped: +1000 +200
  EXPECT_DOUBLE_EQ(*(*rapl)->Read().energy_joules, 10700e-6);
  WriteFile(root_ / "intel-rapl:1" / "energy_uj", "100");  // decrease, range unknown: +0
  EXPECT_DOUBLE_EQ(*(*rapl)->Read().energy_joules, 10700e-6);
  WriteFile(root_ / "intel-rapl:1" / "energy_uj", "150");  // +50
  EXPECT_DOUBLE_EQ(*(*rapl)->Read().energy_joules, 10750e-6);
}

TEST_F(RaplFakeTreeTest, UnreadablePackageMakesEnergyAbsent) {
  StatusOr<std::unique_ptr<RaplTelemetry>> rapl = RaplTelemetry::Open({root_.string()});
  ASSERT_TRUE(rapl.ok());
  fs::remove(root_ / "intel-rapl:1" / "energy_uj");
  EXPECT_TRUE(AllAbsent((*rapl)->Read()));
}

TEST(RaplTest, NoPowercapIsUnavailable) {
  StatusOr<std::unique_ptr<RaplTelemetry>> rapl =
      RaplTelemetry::Open({"/nonexistent/petabox/powercap"});
  ASSERT_FALSE(rapl.ok());
  EXPECT_EQ(rapl.status().code(), StatusCode::kUnavailable);
}

// On a GPU machine: NVML finds the CUDA device by PCI bus id and agrees on its memory.
TEST(TelemetryTest, NvmlMatchesCudaDevice) {
  StatusOr<const GpuApi*> api = LoadCudaApi();
  if (!api.ok()) GTEST_SKIP() << "no CUDA device: " << api.status().message();
  StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(*api, 0);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  auto nvml = NvmlTelemetry::OpenByPciBusId((*device)->pci_bus_id());
  if (!nvml.ok()) GTEST_SKIP() << "no NVML: " << nvml.status().message();
  TelemetryReading r = (*nvml)->Read();
  ExpectPlausible(r);
  std::printf("NVML: power %s W, energy %s J, util %s, mem %s/%s, temp %s C, sm %s Hz, mem %s Hz\n",
              r.power_watts ? std::to_string(*r.power_watts).c_str() : "-",
              r.energy_joules ? std::to_string(*r.energy_joules).c_str() : "-",
              r.utilization_ratio ? std::to_string(*r.utilization_ratio).c_str() : "-",
              r.memory_used_bytes ? std::to_string(*r.memory_used_bytes).c_str() : "-",
              r.memory_total_bytes ? std::to_string(*r.memory_total_bytes).c_str() : "-",
              r.temperature_celsius ? std::to_string(*r.temperature_celsius).c_str() : "-",
              r.sm_clock_hz ? std::to_string(*r.sm_clock_hz).c_str() : "-",
              r.mem_clock_hz ? std::to_string(*r.mem_clock_hz).c_str() : "-");
  ASSERT_TRUE(r.memory_total_bytes.has_value());
  const double cuda_total = static_cast<double>((*device)->properties().memory_bytes);
  EXPECT_NEAR(static_cast<double>(*r.memory_total_bytes), cuda_total, 0.1 * cuda_total);
  EXPECT_EQ(OpenDeviceTelemetry("CUDA", 0, (*device)->pci_bus_id())->source(), "nvml");
}

}  // namespace
}  // namespace petabox
