// Host CPU energy from Linux RAPL (powercap sysfs).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/telemetry/telemetry.h"
#include "engine/util/status.h"
#include "engine/util/thread_annotations.h"

namespace petabox {

struct RaplOptions {
  // The powercap sysfs root; tests point it at a fake tree.
  std::string powercap_dir = "/sys/class/powercap";
};

// The energy counters of the host's CPU packages (every <powercap_dir>/intel-rapl:<N>,
// which recent kernels also provide on AMD CPUs), summed. Only energy_joules is read:
// RAPL has no instantaneous power (derive it from two readings) and no other field.
//
// Each package's energy_uj wraps at max_energy_range_uj; Read() unwraps it by adding the
// difference to the previous reading modulo the range, so readings taken at least once
// per wrap period (tens of minutes at full load) are exact. The counter starts at the raw
// value seen at Open. energy_joules is absent in a reading where a package cannot be read.
// Thread-safe.
class RaplTelemetry : public DeviceTelemetry {
 public:
  // Unavailable when no package's energy_uj is readable (no RAPL, or not permitted:
  // kernels since 5.10 make it readable by root only).
  static StatusOr<std::unique_ptr<RaplTelemetry>> Open(RaplOptions options = {});

  std::string source() const override { return "rapl"; }
  TelemetryReading Read() override EXCLUDES(mutex_);

  // The package directories in use.
  std::vector<std::string> zones() const EXCLUDES(mutex_);

 private:
  struct Zone {
    std::string dir;
    std::optional<uint64_t> range_uj;  // max_energy_range_uj; absent if unreadable
    uint64_t last_raw_uj = 0;
    uint64_t total_uj = 0;  // unwrapped counter
  };
  explicit RaplTelemetry(std::vector<Zone> zones) : zones_(std::move(zones)) {}
  // Folds a new raw reading into the zone's unwrapped total.
  static void Advance(Zone& zone, uint64_t raw_uj);

  mutable Mutex mutex_;
  std::vector<Zone> zones_ GUARDED_BY(mutex_);

};

// Reads a sysfs file holding one unsigned decimal number; nullopt when unreadable.
std::optional<uint64_t> ReadSysfsUint(const std::string& path);

}  // namespace petabox
