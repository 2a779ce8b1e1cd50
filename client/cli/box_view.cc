#include "client/cli/box_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "client/cli/format.h"
#include "client/cli/progress.h"

namespace petabox::cli {

Table DevicesTable(const v1::Box& box) {
  Table table({"NAME", "KIND", "DESCRIPTION", "MEMORY", "STATE", "JOB"});
  table.AlignRight(3);
  for (const v1::Device& device : box.devices()) {
    std::string state = device.state() == v1::Device::STATE_UNSPECIFIED ? "-" : v1::Device::State_Name(device.state());
    table.AddRow({device.name(), device.kind(), device.description(),
                  device.memory_total_bytes() > 0 ? FormatBytes(device.memory_total_bytes()) : "-", state,
                  device.job().empty() ? "-" : device.job()});
  }
  return table;
}

namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// `value` with `digits` significant digits in fixed notation ("152", "15.2", "0.00566").
std::string Significant(double value, int digits) {
  if (value == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  const int decimals = std::clamp(digits - 1 - magnitude, 0, 9);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string TelemetryMemory(const v1::DeviceTelemetry& t) {
  const int64_t used = t.has_memory_used_bytes() ? t.memory_used_bytes() : t.engine_memory_bytes();
  if (!t.has_memory_total_bytes()) return FormatBytes(used);
  return FormatBytes(used) + " / " + FormatBytes(t.memory_total_bytes());
}

std::string TelemetryPower(const v1::Device& device) {
  const v1::DeviceTelemetry& t = device.telemetry();
  if (t.has_power_watts()) return Printf("%.0f", t.power_watts());
  if (t.power_group_size() > 0 && t.power_group(0) != device.name()) return "(" + t.power_group(0) + ")";
  return "-";
}

std::string TenantsLine(const v1::Box& box) {
  std::string out;
  for (const v1::TenantUsage& u : box.tenants()) {
    out += (out.empty() ? "" : "; ") + u.tenant() + " " + Significant(u.device_seconds() / 3600, 3) +
           " device-hours, " + Significant(u.flops() / 1e15, 3) + " PFLOP";
    if (u.has_energy_joules()) out += ", " + Significant(u.energy_joules() / 3.6e6, 3) + " kWh";
  }
  return out;
}

}  // namespace

Table TelemetryTable(const v1::Box& box) {
  Table table({"NAME", "BUSY", "TFLOP/S", "W", "GFLOPS/W", "MEMORY", "TEMP", "JOB"});
  for (size_t column = 1; column <= 6; ++column) table.AlignRight(column);
  for (const v1::Device& device : box.devices()) {
    const v1::DeviceTelemetry& t = device.telemetry();
    table.AddRow({device.name(), t.has_busy_ratio() ? Printf("%.0f%%", 100 * t.busy_ratio()) : "-",
                  t.has_flops_per_second() ? Significant(t.flops_per_second() / 1e12, 3) : "-", TelemetryPower(device),
                  t.has_flops_per_watt() ? Printf("%.1f", t.flops_per_watt() / 1e9) : "-",
                  device.has_telemetry() ? TelemetryMemory(t) : "-",
                  t.has_temperature_celsius() ? Printf("%.0fC", t.temperature_celsius()) : "-",
                  device.job().empty() ? "-" : device.job()});
  }
  return table;
}

std::string RenderBox(const v1::Box& box) {
  const bool telemetry = box.telemetry_interval_seconds() > 0;
  std::string out = box.devices_size() == 0 ? "No devices.\n"
                    : telemetry             ? TelemetryTable(box).Render()
                                            : DevicesTable(box).Render();
  out += "\nQueue:   " + std::to_string(box.queue_length()) + " queued, " + std::to_string(box.running_jobs()) +
         " running\n";
  out += "Daemon:  petaboxd " + (box.daemon_version().empty() ? std::string("(version unknown)") : box.daemon_version()) +
         "\n";
  if (telemetry) {
    out += "Sampled: every " + Printf("%g", box.telemetry_interval_seconds()) + " s" +
           (box.has_sample_time() ? ", last at " + FormatTimestamp(box.sample_time()) : "") + "\n";
  }
  if (box.tenants_size() > 0) out += "Usage:   " + TenantsLine(box) + " (since petaboxd started)\n";
  if (box.draining()) out += "Draining: the daemon is shutting down; no new jobs start\n";
  return out;
}

Table DatasetsTable(const v1::ListDatasetsResponse& datasets, const google::protobuf::Timestamp& now) {
  Table table({"NAME", "FILES", "SIZE", "CREATED"});
  table.AlignRight(1);
  table.AlignRight(2);
  for (const v1::Dataset& dataset : datasets.datasets()) {
    table.AddRow({dataset.name(), std::to_string(dataset.files_size()), FormatBytes(dataset.total_bytes()),
                  FormatAge(dataset.create_time(), now) + (dataset.has_create_time() ? " ago" : "")});
  }
  return table;
}

std::string RenderTransfer(int64_t done, int64_t total, int width) {
  double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  std::string text = FormatBytes(done) + " / " + FormatBytes(total) + "  " +
                     std::to_string(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100)) + "%";
  int bar = std::min(40, width - 2 - static_cast<int>(text.size()));
  return bar >= 10 ? RenderBar(fraction, bar) + " " + text : text;
}

}  // namespace petabox::cli
