// PlaceJobs: priority order, FIFO within a priority, no backfill, and which devices each
// started job gets.
#include "daemon/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace petabox::daemon {
namespace {

QueuedJob Job(std::string name, int priority, int64_t order, int device_count = 1) {
  QueuedJob job;
  job.name = std::move(name);
  job.priority = priority;
  job.order = order;
  job.device_count = device_count;
  return job;
}

std::vector<std::string> Names(const std::vector<Placement>& placements) {
  std::vector<std::string> names;
  for (const Placement& p : placements) names.push_back(p.name);
  return names;
}

using Devices = std::vector<std::string>;

TEST(PlaceJobsTest, EmptyQueueStartsNothing) {
  EXPECT_TRUE(PlaceJobs({}, {"gpu:0", "gpu:1"}).empty());
}

TEST(PlaceJobsTest, NoFreeDevicesStartsNothing) {
  EXPECT_TRUE(PlaceJobs({Job("jobs/a", 0, 1)}, {}).empty());
}

TEST(PlaceJobsTest, BothEmpty) { EXPECT_TRUE(PlaceJobs({}, {}).empty()); }

TEST(PlaceJobsTest, FifoWithinPriority) {
  // Given out of order; creation order decides.
  auto placed = PlaceJobs({Job("jobs/c", 0, 30), Job("jobs/a", 0, 10), Job("jobs/b", 0, 20)},
                          {"gpu:0", "gpu:1"});
  EXPECT_EQ(Names(placed), (std::vector<std::string>{"jobs/a", "jobs/b"}));
  EXPECT_EQ(placed[0].devices, Devices{"gpu:0"});
  EXPECT_EQ(placed[1].devices, Devices{"gpu:1"});
}

TEST(PlaceJobsTest, HigherPriorityFirstEvenIfNewer) {
  auto placed = PlaceJobs({Job("jobs/old-low", 0, 1), Job("jobs/new-high", 5, 9),
                           Job("jobs/mid", 2, 5)},
                          {"gpu:0"});
  EXPECT_EQ(Names(placed), std::vector<std::string>{"jobs/new-high"});
}

TEST(PlaceJobsTest, PriorityThenOrderAcrossAll) {
  auto placed = PlaceJobs({Job("jobs/l1", -1, 1), Job("jobs/h2", 3, 2), Job("jobs/m1", 1, 1),
                           Job("jobs/h1", 3, 1)},
                          {"a", "b", "c", "d"});
  EXPECT_EQ(Names(placed), (std::vector<std::string>{"jobs/h1", "jobs/h2", "jobs/m1", "jobs/l1"}));
}

TEST(PlaceJobsTest, NoBackfillBehindABlockedJob) {
  // The 4-device job is first and does not fit on 3 free devices; the 1-device job behind
  // it would fit but must wait.
  auto placed = PlaceJobs({Job("jobs/big", 0, 1, 4), Job("jobs/small", 0, 2, 1)},
                          {"gpu:0", "gpu:1", "gpu:2"});
  EXPECT_TRUE(placed.empty());
}

TEST(PlaceJobsTest, NoBackfillAfterSomeStarted) {
  auto placed = PlaceJobs({Job("jobs/a", 0, 1, 2), Job("jobs/b", 0, 2, 2), Job("jobs/c", 0, 3, 1)},
                          {"gpu:0", "gpu:1", "gpu:2"});
  ASSERT_EQ(Names(placed), std::vector<std::string>{"jobs/a"});
  EXPECT_EQ(placed[0].devices, (Devices{"gpu:0", "gpu:1"}));
}

TEST(PlaceJobsTest, HighPriorityBigJobBlocksLowerPriority) {
  auto placed = PlaceJobs({Job("jobs/low", 0, 1, 1), Job("jobs/high", 9, 2, 3)}, {"gpu:0", "gpu:1"});
  EXPECT_TRUE(placed.empty());
}

TEST(PlaceJobsTest, JobNeedingMoreThanFreeWaits) {
  EXPECT_TRUE(PlaceJobs({Job("jobs/a", 0, 1, 3)}, {"gpu:0", "gpu:1"}).empty());
}

TEST(PlaceJobsTest, JobNeedingExactlyAllFreeStarts) {
  auto placed = PlaceJobs({Job("jobs/a", 0, 1, 2)}, {"gpu:3", "gpu:5"});
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_EQ(placed[0].devices, (Devices{"gpu:3", "gpu:5"}));
}

TEST(PlaceJobsTest, ManyJobsStartOnDisjointDevicesInPoolOrder) {
  auto placed = PlaceJobs({Job("jobs/a", 0, 1, 2), Job("jobs/b", 0, 2, 1), Job("jobs/c", 0, 3, 3),
                           Job("jobs/d", 0, 4, 1)},
                          {"gpu:1", "gpu:2", "gpu:4", "gpu:5", "gpu:6", "gpu:7"});
  ASSERT_EQ(Names(placed), (std::vector<std::string>{"jobs/a", "jobs/b", "jobs/c"}));
  EXPECT_EQ(placed[0].devices, (Devices{"gpu:1", "gpu:2"}));
  EXPECT_EQ(placed[1].devices, (Devices{"gpu:4"}));
  EXPECT_EQ(placed[2].devices, (Devices{"gpu:5", "gpu:6", "gpu:7"}));
}

TEST(PlaceJobsTest, KeepsTheGivenDeviceOrder) {
  // The pool's order is the configured order, not sorted.
  auto placed = PlaceJobs({Job("jobs/a", 0, 1, 2)}, {"gpu:7", "gpu:2", "gpu:0"});
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_EQ(placed[0].devices, (Devices{"gpu:7", "gpu:2"}));
}

TEST(PlaceJobsTest, EqualPriorityAndOrderKeepQueueOrder) {
  auto placed = PlaceJobs({Job("jobs/x", 1, 5), Job("jobs/y", 1, 5)}, {"a", "b"});
  EXPECT_EQ(Names(placed), (std::vector<std::string>{"jobs/x", "jobs/y"}));
}

TEST(PlaceJobsTest, NonPositiveDeviceCountTakesOneDevice) {
  auto placed = PlaceJobs({Job("jobs/a", 0, 1, 0), Job("jobs/b", 0, 2, 1)}, {"a", "b"});
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_EQ(placed[0].devices, Devices{"a"});
  EXPECT_EQ(placed[1].devices, Devices{"b"});
}

}  // namespace
}  // namespace petabox::daemon
