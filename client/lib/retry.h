// Retrying idempotent calls (CreateJob with a request_id) when the failure says the call
// may not have reached the daemon or its answer was lost: UNAVAILABLE, DEADLINE_EXCEEDED.
//
// Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "engine/util/status.h"

namespace petabox::client {

struct RetryPolicy {
  // Retries after the first attempt (so max_retries + 1 attempts in all).
  int max_retries = 3;
  // Wait before the first retry; doubled before each further one.
  std::chrono::milliseconds first_delay{500};
  // How to wait (tests pass one that records instead of sleeping); empty: no wait.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Told about each failure that is retried, before the wait (may be empty).
  std::function<void(const Status&, std::chrono::milliseconds)> on_retry;
};

// Whether a failed call may be repeated: its gRPC code is UNAVAILABLE or DEADLINE_EXCEEDED.
bool IsRetryable(const Status& status);

// 32 random hex digits, for CreateJobRequest.request_id.
std::string NewRequestId();

// Calls `call` until it succeeds, fails with a non-retryable status, or the retries are
// used up; returns the last result. `call` must be idempotent.
template <typename T>
StatusOr<T> CallWithRetry(const RetryPolicy& policy, const std::function<StatusOr<T>()>& call) {
  std::chrono::milliseconds delay = policy.first_delay;
  for (int attempt = 0;; ++attempt) {
    StatusOr<T> result = call();
    if (result.ok() || attempt >= policy.max_retries || !IsRetryable(result.status())) return result;
    if (policy.on_retry) policy.on_retry(result.status(), delay);
    if (policy.sleep) policy.sleep(delay);
    delay *= 2;
  }
}

}  // namespace petabox::client
