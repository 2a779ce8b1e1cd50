// Thread-safety annotations that clang's -Wthread-safety checks (they expand to nothing for
// other compilers), and a Mutex / MutexLock pair that carries them: libstdc++'s std::mutex
// has no capability attributes, so clang cannot check code that locks it with
// std::lock_guard. The ctest `thread_safety_check` (tests/thread_safety/check.py) compiles
// the annotated files with clang and fails on a violation.
//
//   class Counter {
//    public:
//     void Add() EXCLUDES(mu_) { MutexLock lock(mu_); ++n_; }
//    private:
//     void AddLocked() REQUIRES(mu_) { ++n_; }
//     Mutex mu_;
//     int n_ GUARDED_BY(mu_) = 0;
//   };
//
// Condition variables: std::condition_variable (or std::condition_variable_any), waited on
// through the MutexLock, with the condition tested in the caller's loop (where clang sees the lock held;
// it cannot see that inside a predicate lambda):
//
//   MutexLock lock(mu_);
//   while (!ready_) lock.Wait(cv_);
//
// The semantics are clang's: https://clang.llvm.org/docs/ThreadSafetyAnalysis.html
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

// GUARDED_BY, PT_GUARDED_BY and THREAD_ANNOTATION_ATTRIBUTE__ are spelled exactly as in
// Abseil's legacy absl/base/internal/thread_annotations.h (which gRPC's headers include):
// identical macro definitions may be repeated, different ones would be redefinitions.
#if defined(__clang__)
#define THREAD_ANNOTATION_ATTRIBUTE__(x)   __attribute__((x))
#else
#define THREAD_ANNOTATION_ATTRIBUTE__(x)   // no-op
#endif

// A member that may be read or written only with mutex `x` held.
#define GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(guarded_by(x))
// A pointer member whose pointee may be used only with mutex `x` held.
#define PT_GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(pt_guarded_by(x))
// A function that must be called with the mutexes held (and returns with them held).
#define REQUIRES(...) THREAD_ANNOTATION_ATTRIBUTE__(requires_capability(__VA_ARGS__))
// A function that must be called without the mutexes held (it takes them itself).
#define EXCLUDES(...) THREAD_ANNOTATION_ATTRIBUTE__(locks_excluded(__VA_ARGS__))
// A function that takes / releases the mutexes (this object's when none are named).
#define ACQUIRE(...) THREAD_ANNOTATION_ATTRIBUTE__(acquire_capability(__VA_ARGS__))
#define RELEASE(...) THREAD_ANNOTATION_ATTRIBUTE__(release_capability(__VA_ARGS__))
// A function that checks at run time that the mutex is held.
#define ASSERT_CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE__(assert_capability(x))
// A class that is a mutex; a class whose objects hold a mutex for their lifetime.
#define CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE__(capability(x))
#define SCOPED_CAPABILITY THREAD_ANNOTATION_ATTRIBUTE__(scoped_lockable)

namespace petabox {

// A std::mutex that clang's analysis knows as a capability. Not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the caller holds this mutex (for code it cannot follow, e.g. a
  // callback that runs under the lock). Checks nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

  // BasicLockable spelling, for std::condition_variable_any (MutexLock::Wait); prefer
  // MutexLock elsewhere.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class MutexLock;  // waits on std::condition_variable with mu_
  std::mutex mu_;
};

// Holds a Mutex from construction to destruction (std::lock_guard for Mutex), and waits on
// condition variables with it.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex, blocks until `cv` is notified (or a spurious wake-up), and takes
  // the mutex again before returning: test the condition in a loop around it.
  void Wait(std::condition_variable_any& cv) { cv.wait(mu_); }
  // As Wait, but returns false once `deadline` has passed (the mutex is held again either
  // way).
  bool WaitUntil(std::condition_variable_any& cv, std::chrono::steady_clock::time_point deadline) {
    return cv.wait_until(mu_, deadline) == std::cv_status::no_timeout;
  }
  // The same with a std::condition_variable, which costs no more than with a std::mutex
  // (condition_variable_any takes an internal mutex of its own): for hot paths.
  void Wait(std::condition_variable& cv) {
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    cv.wait(lock);
    lock.release();  // still held; ~MutexLock releases it
  }
  bool WaitUntil(std::condition_variable& cv, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    const bool notified = cv.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return notified;
  }


 private:
  Mutex& mu_;
};

}  // namespace petabox
