// Watching a job to its end: the WatchJob stream rendered by an EventPrinter, resumed from
// the last event seen when the stream breaks with UNAVAILABLE (daemon restart, network),
// within a bounded time. Used by `petabox watch` and `petabox submit --watch`.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "client/cli/context.h"
#include "client/cli/event_printer.h"
#include "client/lib/job_client.h"
#include "engine/util/status.h"

namespace petabox::cli {

// Waits between reconnection attempts: first, then doubling up to `max`, until `budget` of
// waiting is used up. Thread-compatible value type.
class ReconnectBackoff {
 public:
  explicit ReconnectBackoff(std::chrono::milliseconds budget = std::chrono::seconds(30),
                            std::chrono::milliseconds first = std::chrono::milliseconds(500),
                            std::chrono::milliseconds max = std::chrono::seconds(8));
  // The next wait, or nullopt when the budget is spent.
  std::optional<std::chrono::milliseconds> Next();
  // Starts over (after a reconnect delivered events).
  void Reset();

 private:
  std::chrono::milliseconds budget_, first_, max_;
  std::chrono::milliseconds next_, spent_{0};
};

// How a watched job ended.
struct JobEnd {
  v1::Job::State state = v1::Job::STATE_UNSPECIFIED;
  std::string reason;
  std::optional<v1::JobResult> result;
};

// Streams job `name`'s events from the start into `printer` until the job ends, resuming
// after the last sequence number seen when the stream breaks with UNAVAILABLE (`sleep`
// waits between attempts, as `backoff` says). The job's end, or the error that stopped
// the watch (the last UNAVAILABLE once the backoff is spent).
StatusOr<JobEnd> WatchToEnd(const client::JobClient& jobs, const std::string& name, EventPrinter& printer,
                            ReconnectBackoff& backoff,
                            const std::function<void(std::chrono::milliseconds)>& sleep);

// `petabox watch NAME`: connects, watches, prints the end; exit code by the final state.
Outcome RunWatch(CommandContext& context, const std::string& name);

}  // namespace petabox::cli
