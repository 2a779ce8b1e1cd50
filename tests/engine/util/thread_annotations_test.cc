// Mutex and MutexLock at run time (the annotations themselves are checked by clang in the
// ctest thread_safety_check): mutual exclusion, waiting on a condition variable, and
// WaitUntil's timeout, with std::condition_variable_any and std::condition_variable.
#include "engine/util/thread_annotations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <thread>
#include <vector>

namespace petabox {
namespace {

template <typename CondVar>
class Counter {
 public:
  void Add() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    int v = n_;
    std::this_thread::yield();  // widens the window a missing lock would leave open
    n_ = v + 1;
    cv_.notify_all();
  }
  // Waits until the count reaches `n`; false when `timeout` passed first.
  bool WaitFor(int n, std::chrono::milliseconds timeout) EXCLUDES(mu_) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock lock(mu_);
    while (n_ < n) {
      if (!lock.WaitUntil(cv_, deadline)) return n_ >= n;
    }
    return true;
  }
  int WaitForever(int n) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (n_ < n) lock.Wait(cv_);
    return n_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  int n_ GUARDED_BY(mu_) = 0;
};

template <typename CondVar>
class ThreadAnnotationsTest : public ::testing::Test {};
using CondVars = ::testing::Types<std::condition_variable_any, std::condition_variable>;
TYPED_TEST_SUITE(ThreadAnnotationsTest, CondVars);

TYPED_TEST(ThreadAnnotationsTest, MutexLockExcludes) {
  Counter<TypeParam> counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) counter.Add();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(counter.WaitFor(8000, std::chrono::milliseconds(0)));
  EXPECT_FALSE(counter.WaitFor(8001, std::chrono::milliseconds(0)));
}

TYPED_TEST(ThreadAnnotationsTest, WaitWakesOnNotifyAndWaitUntilTimesOut) {
  Counter<TypeParam> counter;

  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(counter.WaitFor(1, std::chrono::milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  std::thread adder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    counter.Add();
    counter.Add();
  });
  EXPECT_EQ(counter.WaitForever(2), 2);
  adder.join();
}

}  // namespace
}  // namespace petabox
