// Clock: the time the telemetry code reads, behind an interface so tests can drive it.
//
// Thread-safe implementations only: the sampler, the ledger and the HTTP handlers read it
// from several threads.
#pragma once

namespace petabox::daemon {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic seconds from an arbitrary zero: intervals, rates, device-seconds.
  virtual double Now() const = 0;
  // Seconds since the Unix epoch: timestamps shown to people and to Prometheus.
  virtual double UnixNow() const = 0;
};

// std::chrono::steady_clock and system_clock.
class SystemClock final : public Clock {
 public:
  double Now() const override;
  double UnixNow() const override;
};

}  // namespace petabox::daemon
