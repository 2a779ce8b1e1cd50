#include "devices/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

// Runs ParallelFor(n) and returns how often each index was visited.
std::vector<int> VisitCounts(ThreadPool& pool, int64_t n) {
  std::vector<std::atomic<int>> counts(n);
  pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) counts[i].fetch_add(1);
  });
  return std::vector<int>(counts.begin(), counts.end());
}

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 3, 7, 1000}) {
      EXPECT_EQ(VisitCounts(pool, n), std::vector<int>(n, 1))
          << "threads=" << threads << " n=" << n;
    }
  }
}

TEST(ThreadPoolTest, ZeroDoesNotCallFn) {
  ThreadPool pool(4);
  bool called = false;
  pool.ParallelFor(0, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPoolTest, UsesOneContiguousChunkPerThread) {
  ThreadPool pool(4);
  std::mutex mutex;
  std::set<std::thread::id> thread_ids;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  pool.ParallelFor(10, [&](int64_t begin, int64_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    thread_ids.insert(std::this_thread::get_id());
    chunks.emplace_back(begin, end);
  });
  EXPECT_EQ(thread_ids.size(), 4u);
  EXPECT_TRUE(thread_ids.count(std::this_thread::get_id()));
  std::sort(chunks.begin(), chunks.end());
  std::vector<std::pair<int64_t, int64_t>> expected = {{0, 3}, {3, 6}, {6, 8}, {8, 10}};
  EXPECT_EQ(chunks, expected);
}

TEST(ThreadPoolTest, SmallNUsesFewerThreads) {
  ThreadPool pool(8);
  std::atomic<int> calls{0};
  pool.ParallelFor(3, [&](int64_t begin, int64_t end) {
    EXPECT_EQ(end - begin, 1);
    calls.fetch_add(1);
  });
  EXPECT_EQ(calls.load(), 3);
}

TEST(ThreadPoolTest, ConcurrentCallersAreSafe) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int iteration = 0; iteration < 200; ++iteration) {
        pool.ParallelFor(100, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 4 * 200 * 100);
}

TEST(ThreadPoolTest, NestedParallelForRunsInline) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(4, [&](int64_t, int64_t) {
    pool.ParallelFor(10, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
  });
  EXPECT_EQ(total.load(), 40);
}

TEST(ThreadPoolTest, NonPositiveThreadCountMeansOne) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.num_threads(), 1);
  EXPECT_EQ(VisitCounts(pool, 5), std::vector<int>(5, 1));
}

}  // namespace
}  // namespace petabox
