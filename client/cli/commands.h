// The CLI's subcommands. Each Add*Commands function adds its subcommands to the app; when
// one of them is parsed, its callback stores in *action what running it means, so that
// main runs it after parsing has finished (CLI11's callbacks must not do the work: a usage
// error found later in the command line would come after the work is done).
#pragma once

#include <CLI/CLI.hpp>

#include "client/cli/context.h"

namespace petabox::cli {

// --server, --token, --data-dir, --tls-ca, --json (on the top-level app; subcommands fall
// through to them, so they go before or after the subcommand's name).
void AddGlobalOptions(CLI::App& app, GlobalOptions& options);
// submit, jobs, status, cancel.
void AddJobCommands(CLI::App& app, CommandContext& context, Action* action);
// watch, logs.
void AddWatchCommands(CLI::App& app, CommandContext& context, Action* action);
// upload, datasets.
void AddDatasetCommands(CLI::App& app, CommandContext& context, Action* action);
// box.
void AddBoxCommands(CLI::App& app, CommandContext& context, Action* action);
// checkpoint.
void AddCheckpointCommands(CLI::App& app, CommandContext& context, Action* action);
// tenants create|list|revoke, audit (owner only).
void AddTenantCommands(CLI::App& app, CommandContext& context, Action* action);
// export (training graphs; needs no daemon).
void AddGraphCommands(CLI::App& app, CommandContext& context, Action* action);
// onnx check (ONNX models against test data sets; needs no daemon).
void AddOnnxCommands(CLI::App& app, CommandContext& context, Action* action);

}  // namespace petabox::cli
