// Compiled by check.py with clang's -Wthread-safety -Werror=thread-safety and -verify: every
// violation below must be reported exactly where its "expected" comment says, and the
// correct uses must compile cleanly. This proves the check catches what it is meant to
// catch with engine/util/thread_annotations.h's Mutex, MutexLock and macros.
#include <condition_variable>

#include "engine/util/thread_annotations.h"

namespace petabox {
namespace {

class Account {
 public:
  // Correct uses.
  void Deposit(int amount) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    AddLocked(amount);
    cv_.notify_all();
  }
  int WaitForBalance(int at_least) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (balance_ < at_least) lock.Wait(cv_);
    return balance_;
  }
  void ManualLocking() {
    mu_.Lock();
    ++balance_;
    mu_.Unlock();
  }

  // Violations.
  int ReadUnlocked() const {
    return balance_;  // expected-error {{reading variable 'balance_' requires holding mutex 'mu_'}}
  }
  void WriteUnlocked() {
    balance_ = 0;  // expected-error {{writing variable 'balance_' requires holding mutex 'mu_' exclusively}}
  }
  void CallWithoutLock() {
    AddLocked(1);  // expected-error {{calling function 'AddLocked' requires holding mutex 'mu_' exclusively}}
  }
  void LockTwice() {
    MutexLock lock(mu_);
    Deposit(1);  // expected-error {{cannot call function 'Deposit' while mutex 'mu_' is held}}
  }
  void ForgetToUnlock() {
    mu_.Lock();  // expected-note {{mutex acquired here}}
  }  // expected-error {{mutex 'mu_' is still held at the end of function}}
  int ReadInPredicate() {
    MutexLock lock(mu_);
    // A lambda is another function: the analysis does not know the lock is held in it.
    auto done = [this] { return balance_ > 0; };  // expected-error {{reading variable 'balance_' requires holding mutex 'mu_'}}
    return done() ? 1 : 0;
  }

 private:
  void AddLocked(int amount) REQUIRES(mu_) { balance_ += amount; }

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  int balance_ GUARDED_BY(mu_) = 0;
};

}  // namespace

// Uses every member, so none is unused.
int UseAccount() {
  Account a;
  a.Deposit(1);
  a.ManualLocking();
  a.WriteUnlocked();
  a.CallWithoutLock();
  a.LockTwice();
  a.ForgetToUnlock();
  return a.WaitForBalance(0) + a.ReadUnlocked() + a.ReadInPredicate();
}

}  // namespace petabox
