#include "client/cli/format.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace petabox::cli {
namespace {

std::string Printf(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// Two units, the larger first: "3m12s", "1h02m".
std::string TwoUnits(int64_t big, const char* big_unit, int64_t small, const char* small_unit) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%lld%s%02lld%s", static_cast<long long>(big), big_unit,
                static_cast<long long>(small), small_unit);
  return buffer;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return TwoUnits(s / 60, "m", s % 60, "s");
  if (s < 86400) return TwoUnits(s / 3600, "h", (s % 3600) / 60, "m");
  return TwoUnits(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string FormatBytes(int64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return Printf("%.1f ", value) + kUnits[unit];
}

std::string FormatRate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "--";
  if (per_second < 1000) return Printf("%.1f", per_second);
  std::string digits = std::to_string(std::llround(per_second));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatLoss(double loss) { return Printf("%.4g", loss); }

std::string FormatPercent(double fraction) { return Printf("%.2f%%", fraction * 100); }

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(time.seconds());
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string FormatAge(const google::protobuf::Timestamp& time, const google::protobuf::Timestamp& now) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  int64_t s = std::max<int64_t>(0, now.seconds() - time.seconds());
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string JobStateName(v1::Job::State state) {
  if (state == v1::Job::STATE_UNSPECIFIED) return "UNSPECIFIED";
  const std::string& name = v1::Job::State_Name(state);
  return name.empty() ? std::to_string(static_cast<int>(state)) : name;
}

bool IsTerminalState(v1::Job::State state) {
  return state == v1::Job::SUCCEEDED || state == v1::Job::FAILED || state == v1::Job::CANCELLED;
}

google::protobuf::Timestamp Now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  google::protobuf::Timestamp now;
  now.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  return now;
}

}  // namespace petabox::cli
