#include "daemon/telemetry/clock.h"

#include <chrono>

namespace petabox::daemon {

double SystemClock::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double SystemClock::UnixNow() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace petabox::daemon
