// checkpoint.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/json.h"
#include "client/cli/terminal.h"
#include "client/lib/checkpoint_file.h"
#include "client/lib/job_client.h"
#include "client/lib/names.h"

namespace petabox::cli {
namespace {

struct CheckpointArgs {
  std::string job;
  std::string output;
};

std::string SummaryJson(const client::CheckpointSummary& summary) {
  return ToJson(nn::json::Json{
      {"path", summary.path}, {"bytes", summary.bytes}, {"sha256", summary.sha256}, {"step", summary.step}});
}

Outcome RunCheckpoint(CommandContext& context, const CheckpointArgs& args) {
  StatusOr<std::string> name = client::NormalizeJobName(args.job);
  if (!name.ok()) return UsageError(name.status());
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  StatusOr<std::unique_ptr<client::CheckpointFile>> file = client::CheckpointFile::Create(args.output);
  if (!file.ok()) return UsageError(file.status());
  const bool tty = IsTerminal(STDERR_FILENO);
  LiveLine live(std::cerr);
  Status local;  // a failure writing the file, as opposed to the stream's
  Status stream = client::JobClient(**connection).DownloadCheckpoint(*name, [&](const v1::CheckpointChunk& chunk) {
    local = (*file)->Add(chunk);
    if (tty) live.Show("downloading " + *name + " checkpoint: " + FormatBytes((*file)->bytes()));
    return local;
  });
  if (tty) live.Finish();
  if (!local.ok()) return UsageError(local);
  if (!stream.ok()) return context.RpcFailure(stream);
  // A stream that ends without the checksum, or whose bytes do not match it, is the
  // daemon's (or the network's) fault: a server error, and the partial file goes.
  if (Status verified = (*file)->Verify(); !verified.ok()) return Outcome{kExitServer, verified.message()};
  StatusOr<client::CheckpointSummary> summary = (*file)->Commit();
  if (!summary.ok()) return UsageError(summary.status());
  if (context.json()) {
    std::cout << SummaryJson(*summary) << "\n";
  } else {
    std::cout << "wrote " << summary->path << ": " << FormatBytes(summary->bytes) << ", step " << summary->step
              << ", sha256 " << summary->sha256 << "\n";
  }
  return Success();
}

}  // namespace

void AddCheckpointCommands(CLI::App& app, CommandContext& context, Action* action) {
  auto args = std::make_shared<CheckpointArgs>();
  CLI::App* cmd = app.add_subcommand(
      "checkpoint", "Download a job's latest checkpoint (checked against its sha256 before it is kept)");
  cmd->add_option("job", args->job, "j-... or jobs/j-...")->required();
  cmd->add_option("-o,--output", args->output, "File to write (FILE.partial while downloading)")->required();
  cmd->callback([&context, action, args] { *action = [&context, args] { return RunCheckpoint(context, *args); }; });
}

}  // namespace petabox::cli
