#include "client/cli/format.h"

#include <gtest/gtest.h>

#include <limits>

namespace petabox::cli {
namespace {

TEST(Format, Durations) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(42.4), "42s");
  EXPECT_EQ(FormatDuration(65), "1m05s");
  EXPECT_EQ(FormatDuration(192), "3m12s");
  EXPECT_EQ(FormatDuration(3725), "1h02m");
  EXPECT_EQ(FormatDuration(2 * 86400 + 3 * 3600 + 5), "2d03h");
  EXPECT_EQ(FormatDuration(-1), "--");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::quiet_NaN()), "--");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "--");
}

TEST(Format, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(int64_t{80} << 30), "80.0 GiB");
}

TEST(Format, RatesLossesPercents) {
  EXPECT_EQ(FormatRate(12.54), "12.5");
  EXPECT_EQ(FormatRate(1234567.4), "1,234,567");
  EXPECT_EQ(FormatRate(1000), "1,000");
  EXPECT_EQ(FormatLoss(2.302585), "2.303");
  EXPECT_EQ(FormatLoss(1.23456e-5), "1.235e-05");
  EXPECT_EQ(FormatPercent(0.881), "88.10%");
}

TEST(Format, TimesAndAges) {
  google::protobuf::Timestamp unset, then, now;
  then.set_seconds(1795341600);  // 2026-11-22T10:00:00Z
  EXPECT_EQ(FormatTimestamp(then), "2026-11-22T10:00:00Z");
  EXPECT_EQ(FormatTimestamp(unset), "-");
  now.set_seconds(then.seconds() + 45);
  EXPECT_EQ(FormatAge(then, now), "45s");
  now.set_seconds(then.seconds() + 720);
  EXPECT_EQ(FormatAge(then, now), "12m");
  now.set_seconds(then.seconds() + 3 * 3600 + 5);
  EXPECT_EQ(FormatAge(then, now), "3h");
  now.set_seconds(then.seconds() + 5 * 86400);
  EXPECT_EQ(FormatAge(then, now), "5d");
  EXPECT_EQ(FormatAge(unset, now), "-");
}

TEST(Format, States) {
  EXPECT_EQ(JobStateName(v1::Job::RUNNING), "RUNNING");
  EXPECT_EQ(JobStateName(v1::Job::STATE_UNSPECIFIED), "UNSPECIFIED");
  EXPECT_TRUE(IsTerminalState(v1::Job::SUCCEEDED));
  EXPECT_TRUE(IsTerminalState(v1::Job::FAILED));
  EXPECT_TRUE(IsTerminalState(v1::Job::CANCELLED));
  EXPECT_FALSE(IsTerminalState(v1::Job::CANCELLING));
  EXPECT_FALSE(IsTerminalState(v1::Job::QUEUED));
}

}  // namespace
}  // namespace petabox::cli
