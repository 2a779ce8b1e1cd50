#include "client/cli/watch.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "client/cli/format.h"
#include "client/cli/progress.h"
#include "client/lib/status_mapping.h"

namespace petabox::cli {
namespace {

using std::chrono::milliseconds;

// Records what ends the job.
void Track(const v1::JobEvent& event, JobEnd* end) {
  if (!event.has_state_change()) return;
  const v1::StateChange& change = event.state_change();
  end->state = change.state();
  end->reason = change.reason();
  if (change.has_result()) end->result = change.result();
}

std::string ReconnectNote(const Status& status, int64_t after, milliseconds wait) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", wait.count() / 1000.0);
  return "watch stream broke (" + client::DescribeRpcError(status) + "); reconnecting after event " +
         std::to_string(after) + " in " + seconds + " s";
}

}  // namespace

ReconnectBackoff::ReconnectBackoff(milliseconds budget, milliseconds first, milliseconds max)
    : budget_(budget), first_(first), max_(max), next_(first) {}

std::optional<milliseconds> ReconnectBackoff::Next() {
  if (spent_ >= budget_) return std::nullopt;
  milliseconds wait = std::min(next_, budget_ - spent_);
  spent_ += wait;
  next_ = std::min(next_ * 2, max_);
  return wait;
}

void ReconnectBackoff::Reset() {
  next_ = first_;
  spent_ = milliseconds(0);
}

StatusOr<JobEnd> WatchToEnd(const client::JobClient& jobs, const std::string& name, EventPrinter& printer,
                            ReconnectBackoff& backoff, const std::function<void(milliseconds)>& sleep) {
  JobEnd end;
  int64_t last_sequence = 0;
  bool reconnecting = false;
  while (true) {
    bool got_events = false;
    Status status = jobs.WatchJob(name, last_sequence, [&](const v1::JobEvent& event) {
      if (reconnecting) printer.Note("reconnected; resuming after event " + std::to_string(last_sequence));
      reconnecting = false;
      got_events = true;
      last_sequence = std::max(last_sequence, event.sequence());
      Track(event, &end);
      printer.Print(event);
      return Status::Ok();
    });
    if (status.ok()) return end;
    if (client::GrpcCodeOf(status) != grpc::StatusCode::UNAVAILABLE) return status;
    if (got_events) backoff.Reset();
    std::optional<milliseconds> wait = backoff.Next();
    if (!wait) return status;
    printer.Note(ReconnectNote(status, last_sequence, *wait));
    reconnecting = true;
    sleep(*wait);
  }
}

Outcome RunWatch(CommandContext& context, const std::string& name) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  client::JobClient jobs(**connection);
  OutputMode mode = context.json() ? OutputMode::kJson
                    : IsTerminal(STDOUT_FILENO) ? OutputMode::kLive
                                                : OutputMode::kLines;
  EventPrinter printer(std::cout, std::cerr, mode, TerminalWidth(STDOUT_FILENO));
  ReconnectBackoff backoff;
  StatusOr<JobEnd> end = WatchToEnd(jobs, name, printer, backoff, [](milliseconds wait) {
    std::this_thread::sleep_for(wait);
  });
  printer.Finish();
  if (!end.ok()) return context.RpcFailure(end.status());
  if (!IsTerminalState(end->state)) {
    // The stream ended OK without the event that ends the job: ask for the job itself.
    StatusOr<v1::Job> job = jobs.GetJob(name);
    if (!job.ok()) return context.RpcFailure(job.status());
    end->state = job->state();
    end->reason = job->failure_reason();
    if (job->has_result()) end->result = job->result();
    if (!IsTerminalState(end->state)) {
      return Outcome{kExitServer, "the watch stream of " + name + " ended while the job is " + JobStateName(end->state)};
    }
  }
  if (mode != OutputMode::kJson) {
    std::cout << RenderJobEnd(name, end->state, end->reason, end->result ? &*end->result : nullptr) << "\n";
  }
  return Outcome{ExitCodeForJobState(end->state), ""};
}

}  // namespace petabox::cli
