#include "devices/telemetry/rapl_telemetry.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace petabox {
namespace {

// "intel-rapl:<N>": a package. Sub-zones ("intel-rapl:0:1", core/uncore/dram) are parts of
// a package or separate domains and are not added in.
bool IsPackageZone(const std::string& name) {
  const std::string prefix = "intel-rapl:";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::vector<std::string> PackageDirs(const std::string& root) {
  std::vector<std::string> dirs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
    if (IsPackageZone(entry.path().filename().string())) dirs.push_back(entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

std::optional<uint64_t> ReadSysfsUint(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return std::nullopt;
  unsigned long long value = 0;
  const int matched = std::fscanf(file, "%llu", &value);
  std::fclose(file);
  if (matched != 1) return std::nullopt;
  return static_cast<uint64_t>(value);
}

StatusOr<std::unique_ptr<RaplTelemetry>> RaplTelemetry::Open(RaplOptions options) {
  std::vector<Zone> zones;
  for (const std::string& dir : PackageDirs(options.powercap_dir)) {
    std::optional<uint64_t> raw = ReadSysfsUint(dir + "/energy_uj");
    if (!raw.has_value()) continue;
    Zone zone;
    zone.dir = dir;
    zone.range_uj = ReadSysfsUint(dir + "/max_energy_range_uj");
    zone.last_raw_uj = *raw;
    zone.total_uj = *raw;
    zones.push_back(std::move(zone));
  }
  if (zones.empty()) {
    return Unavailable("no readable RAPL package energy counter under " + options.powercap_dir +
                       " (absent, or readable by root only)");
  }
  return std::unique_ptr<RaplTelemetry>(new RaplTelemetry(std::move(zones)));
}

void RaplTelemetry::Advance(Zone& zone, uint64_t raw_uj) {
  if (raw_uj >= zone.last_raw_uj) {
    zone.total_uj += raw_uj - zone.last_raw_uj;
  } else if (zone.range_uj.has_value() && zone.last_raw_uj <= *zone.range_uj) {
    // Wrapped: the counter ran up to its range, restarted at 0 and rose to raw_uj.
    zone.total_uj += (*zone.range_uj - zone.last_raw_uj) + raw_uj;
  }
  // A decrease without a known range cannot be measured; it adds nothing.
  zone.last_raw_uj = raw_uj;
}

TelemetryReading RaplTelemetry::Read() {
  TelemetryReading reading;
  MutexLock lock(mutex_);
  uint64_t total_uj = 0;
  for (Zone& zone : zones_) {
    std::optional<uint64_t> raw = ReadSysfsUint(zone.dir + "/energy_uj");
    if (!raw.has_value()) return reading;
    Advance(zone, *raw);
    total_uj += zone.total_uj;
  }
  reading.energy_joules = static_cast<double>(total_uj) * 1e-6;
  return reading;
}

std::vector<std::string> RaplTelemetry::zones() const {
  MutexLock lock(mutex_);
  std::vector<std::string> dirs;
  for (const Zone& zone : zones_) dirs.push_back(zone.dir);
  return dirs;
}

}  // namespace petabox
