// watch, logs.
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/json.h"
#include "client/cli/watch.h"
#include "client/lib/job_client.h"
#include "client/lib/names.h"

namespace petabox::cli {
namespace {

struct LogsArgs {
  std::string job;
  bool follow = false;
};

constexpr auto kLogPollInterval = std::chrono::seconds(1);

// Prints every log line after *last_line (paging), advancing *last_line.
Status PrintNewLogLines(const client::JobClient& jobs, const std::string& name, bool json, int64_t* last_line) {
  while (true) {
    PB_ASSIGN_OR_RETURN(v1::GetJobLogsResponse page, jobs.GetJobLogs(name, *last_line, 0));
    int64_t number = page.last_line() - page.lines_size();
    for (const std::string& line : page.lines()) {
      ++number;
      if (json) {
        std::cout << ToJson(nn::json::Json{{"line", number}, {"text", line}}) << "\n";
      } else {
        std::cout << line << "\n";
      }
    }
    std::cout << std::flush;
    if (page.lines_size() == 0 || page.last_line() <= *last_line) return Status::Ok();
    *last_line = page.last_line();
  }
}

// Prints the job's log; with `follow`, keeps polling until the job has ended and every
// line written before its end has been printed.
Status FollowLogs(const client::JobClient& jobs, const std::string& name, bool follow, bool json) {
  int64_t last_line = 0;
  bool ended = false;
  while (true) {
    PB_RETURN_IF_ERROR(PrintNewLogLines(jobs, name, json, &last_line));
    if (!follow || ended) return Status::Ok();
    PB_ASSIGN_OR_RETURN(v1::Job job, jobs.GetJob(name));
    // Once ended, one more pass picks up lines written between the last read and the end.
    ended = IsTerminalState(job.state());
    if (!ended) std::this_thread::sleep_for(kLogPollInterval);
  }
}

Outcome RunLogs(CommandContext& context, const LogsArgs& args) {
  StatusOr<std::string> name = client::NormalizeJobName(args.job);
  if (!name.ok()) return UsageError(name.status());
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  Status status = FollowLogs(client::JobClient(**connection), *name, args.follow, context.json());
  return status.ok() ? Success() : context.RpcFailure(status);
}

Outcome RunWatchCommand(CommandContext& context, const std::string& job) {
  StatusOr<std::string> name = client::NormalizeJobName(job);
  if (!name.ok()) return UsageError(name.status());
  return RunWatch(context, *name);
}

}  // namespace

void AddWatchCommands(CLI::App& app, CommandContext& context, Action* action) {
  auto watch_job = std::make_shared<std::string>();
  CLI::App* watch = app.add_subcommand(
      "watch", "Follow a job's progress to its end (exit 4 if it ends FAILED or CANCELLED)");
  watch->add_option("job", *watch_job, "j-... or jobs/j-...")->required();
  watch->callback([&context, action, watch_job] {
    *action = [&context, watch_job] { return RunWatchCommand(context, *watch_job); };
  });

  auto args = std::make_shared<LogsArgs>();
  CLI::App* logs = app.add_subcommand("logs", "Print a job's worker output");
  logs->add_option("job", args->job, "j-... or jobs/j-...")->required();
  logs->add_flag("-f,--follow", args->follow, "Keep printing new lines until the job has ended");
  logs->callback([&context, action, args] { *action = [&context, args] { return RunLogs(context, *args); }; });
}

}  // namespace petabox::cli
