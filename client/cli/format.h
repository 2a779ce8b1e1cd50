// Formatting of values for people: durations, byte counts, rates, losses, timestamps and
// job states. Pure functions, used by the tables, the job views and the progress line.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>

#include "petabox/v1/job.pb.h"

namespace petabox::cli {

// "42s", "3m12s", "1h02m", "2d03h"; "--" for negative or non-finite values.
std::string FormatDuration(double seconds);
// "512 B", "1.5 KiB", "80.0 GiB".
std::string FormatBytes(int64_t bytes);
// "12.5" below 1000, else whole with thousands separators: "12,345".
std::string FormatRate(double per_second);
// Four significant digits: "0.4321", "2.303", "1.235e-05".
std::string FormatLoss(double loss);
// "88.10%" for 0.881.
std::string FormatPercent(double fraction);
// "2026-11-22T10:00:00Z"; "-" when unset (zero).
std::string FormatTimestamp(const google::protobuf::Timestamp& time);
// Time from `time` to `now` in the largest whole unit: "45s", "12m", "3h", "5d"; "-" when
// `time` is unset.
std::string FormatAge(const google::protobuf::Timestamp& time, const google::protobuf::Timestamp& now);
// "RUNNING"; "UNSPECIFIED" for STATE_UNSPECIFIED.
std::string JobStateName(v1::Job::State state);
// Whether a job in `state` has ended (SUCCEEDED, FAILED, CANCELLED).
bool IsTerminalState(v1::Job::State state);
// The current time as a Timestamp.
google::protobuf::Timestamp Now();

}  // namespace petabox::cli
