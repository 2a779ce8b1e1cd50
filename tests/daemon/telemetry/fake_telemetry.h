// Test doubles for the telemetry code: a clock the test sets, and a device telemetry
// source that returns the reading the test gives it.
#pragma once

#include <string>

#include "daemon/telemetry/clock.h"
#include "devices/telemetry/telemetry.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon::testing {

class FakeClock : public Clock {
 public:
  double Now() const override { return now; }
  double UnixNow() const override { return 1.8e9 + now; }
  void Advance(double seconds) { now += seconds; }
  double now = 1000;
};

class FakeTelemetry : public DeviceTelemetry {
 public:
  explicit FakeTelemetry(std::string source = "fake") : source_(std::move(source)) {}
  std::string source() const override { return source_; }
  TelemetryReading Read() override {
    ++reads;
    return reading;
  }
  TelemetryReading reading;
  int reads = 0;

 private:
  std::string source_;
};

inline v1::Job TestJob(const std::string& name, v1::Job::State state, std::vector<std::string> devices = {}) {
  v1::Job job;
  job.set_name(name);
  job.set_state(state);
  for (const std::string& d : devices) job.add_devices(d);
  return job;
}

}  // namespace petabox::daemon::testing
