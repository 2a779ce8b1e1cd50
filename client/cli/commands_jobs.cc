// submit, jobs, status, cancel.
#include <iostream>
#include <memory>
#include <thread>

#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/job_view.h"
#include "client/cli/json.h"
#include "client/cli/spec_file.h"
#include "client/cli/watch.h"
#include "client/lib/job_client.h"
#include "client/lib/names.h"
#include "client/lib/retry.h"
#include "client/lib/status_mapping.h"

namespace petabox::cli {
namespace {

struct SubmitArgs {
  std::string spec_path;
  int priority = 0;
  bool watch = false;
};

struct JobsArgs {
  std::vector<std::string> states;
  int limit = 0;
};

// Retries announce themselves on stderr; the request id keeps them from making two jobs.
client::RetryPolicy CreateRetryPolicy() {
  client::RetryPolicy policy;
  policy.sleep = [](std::chrono::milliseconds wait) { std::this_thread::sleep_for(wait); };
  policy.on_retry = [](const Status& status, std::chrono::milliseconds wait) {
    std::cerr << "petabox: " << client::DescribeRpcError(status) << "; retrying in " << wait.count()
              << " ms with the same request id\n";
  };
  return policy;
}

Outcome RunSubmit(CommandContext& context, const SubmitArgs& args) {
  StatusOr<SpecFile> spec = ReadJobSpec(args.spec_path);  // parsed and validated once, here
  if (!spec.ok()) return UsageError(spec.status());
  StatusOr<std::string> graph = ReadSpecGraph(args.spec_path, spec->spec);  // model: graph uploads its graph
  if (!graph.ok()) return UsageError(graph.status());
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  v1::Job job;
  job.set_spec_yaml(spec->yaml);
  job.set_graph(*graph);
  job.set_priority(args.priority);
  StatusOr<v1::Job> created =
      client::JobClient(**connection).CreateJobWithRetry(job, client::NewRequestId(), CreateRetryPolicy());
  if (!created.ok()) return context.RpcFailure(created.status());
  std::cout << (context.json() ? ToJson(*created) : created->name()) << "\n" << std::flush;
  return args.watch ? RunWatch(context, created->name()) : Success();
}

// Every page of ListJobs, up to `limit` jobs (0: all).
StatusOr<std::vector<v1::Job>> ListAllJobs(const client::JobClient& jobs, const std::vector<v1::Job::State>& states,
                                           int limit) {
  v1::ListJobsRequest request;
  for (v1::Job::State state : states) request.add_states(state);
  std::vector<v1::Job> all;
  do {
    int left = limit > 0 ? limit - static_cast<int>(all.size()) : 1000;
    request.set_page_size(std::min(left, 1000));
    PB_ASSIGN_OR_RETURN(v1::ListJobsResponse page, jobs.ListJobs(request));
    for (v1::Job& job : *page.mutable_jobs()) {
      if (limit == 0 || static_cast<int>(all.size()) < limit) all.push_back(std::move(job));
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && (limit == 0 || static_cast<int>(all.size()) < limit));
  return all;
}

Outcome RunJobs(CommandContext& context, const JobsArgs& args) {
  StatusOr<std::vector<v1::Job::State>> states = ParseJobStates(args.states);
  if (!states.ok()) return UsageError(states.status());
  if (args.limit < 0) return UsageError(InvalidArgument("--limit must be 0 (all) or more"));
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  StatusOr<std::vector<v1::Job>> jobs = ListAllJobs(client::JobClient(**connection), *states, args.limit);
  if (!jobs.ok()) return context.RpcFailure(jobs.status());
  if (context.json()) {
    v1::ListJobsResponse all;
    for (v1::Job& job : *jobs) *all.add_jobs() = std::move(job);
    std::cout << ToJson(all) << "\n";
  } else if (jobs->empty()) {
    std::cout << "No jobs.\n";
  } else {
    std::cout << JobsTable(*jobs, Now()).Render();
  }
  return Success();
}

// Runs `call` on the normalized job name and prints the job it returns.
template <typename Call>
Outcome RunOnJob(CommandContext& context, const std::string& job_arg, Call call,
                 const std::function<std::string(const v1::Job&)>& render) {
  StatusOr<std::string> name = client::NormalizeJobName(job_arg);
  if (!name.ok()) return UsageError(name.status());
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  StatusOr<v1::Job> job = call(client::JobClient(**connection), *name);
  if (!job.ok()) return context.RpcFailure(job.status());
  std::cout << (context.json() ? ToJson(*job) + "\n" : render(*job));
  return Success();
}

void AddSubmit(CLI::App& app, CommandContext& context, Action* action) {
  auto args = std::make_shared<SubmitArgs>();
  CLI::App* cmd = app.add_subcommand(
      "submit", "Submit a job spec (YAML); prints the job's name. With model: graph, the graph file it names is sent too");
  cmd->add_option("spec", args->spec_path, "Job spec file (configs/jobs/*.yaml)")->required();
  cmd->add_option("--priority", args->priority, "Higher runs first (default 0)");
  cmd->add_flag("--watch", args->watch, "Then watch the job to its end (exit 4 if it fails)");
  cmd->callback([&context, action, args] { *action = [&context, args] { return RunSubmit(context, *args); }; });
}

void AddJobs(CLI::App& app, CommandContext& context, Action* action) {
  auto args = std::make_shared<JobsArgs>();
  CLI::App* cmd = app.add_subcommand("jobs", "List jobs, newest first");
  cmd->add_option("--state", args->states, "Only jobs in these states (queued, running, failed, ...)")
      ->delimiter(',');
  cmd->add_option("--limit", args->limit, "Show at most N jobs (default 0: all)");
  cmd->callback([&context, action, args] { *action = [&context, args] { return RunJobs(context, *args); }; });
}

void AddStatusAndCancel(CLI::App& app, CommandContext& context, Action* action) {
  auto status_job = std::make_shared<std::string>();
  CLI::App* status = app.add_subcommand("status", "Show a job: state, progress, failure reason, result");
  status->add_option("job", *status_job, "j-... or jobs/j-...")->required();
  status->callback([&context, action, status_job] {
    *action = [&context, status_job] {
      return RunOnJob(
          context, *status_job, [](const client::JobClient& jobs, const std::string& name) { return jobs.GetJob(name); },
          [](const v1::Job& job) { return RenderJobDetails(job, Now()); });
    };
  });
  auto cancel_job = std::make_shared<std::string>();
  CLI::App* cancel = app.add_subcommand("cancel", "Cancel a queued or running job");
  cancel->add_option("job", *cancel_job, "j-... or jobs/j-...")->required();
  cancel->callback([&context, action, cancel_job] {
    *action = [&context, cancel_job] {
      return RunOnJob(
          context, *cancel_job,
          [](const client::JobClient& jobs, const std::string& name) { return jobs.CancelJob(name); },
          [](const v1::Job& job) { return job.name() + " " + JobStateName(job.state()) + "\n"; });
    };
  });
}

}  // namespace

void AddJobCommands(CLI::App& app, CommandContext& context, Action* action) {
  AddSubmit(app, context, action);
  AddJobs(app, context, action);
  AddStatusAndCancel(app, context, action);
}

}  // namespace petabox::cli
