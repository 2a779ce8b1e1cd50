// petabox: the command-line client of petaboxd. Parses the command line, runs the chosen
// subcommand, prints its error and exits with its code (client/cli/outcome.h).
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "client/cli/commands.h"
#include "client/cli/context.h"
#include "client/cli/outcome.h"
#include "client/lib/environment.h"
#include "devices/registry.h"
#include "engine/device_source.h"

int main(int argc, char** argv) {
  using namespace petabox::cli;
  // The engine builds and exports graphs on the tracing device (petabox graph ...).
  petabox::InstallDeviceSource(&petabox::DeviceRegistry::Global());
  CommandContext context(petabox::client::ClientEnv::FromProcess());
  CLI::App app("petabox: submit, watch and manage training jobs on a petaboxd box", "petabox");
  app.footer(ExitCodeHelp());
  app.fallthrough();
  app.require_subcommand(1);
  AddGlobalOptions(app, context.options());
  Action action;
  AddJobCommands(app, context, &action);
  AddWatchCommands(app, context, &action);
  AddDatasetCommands(app, context, &action);
  AddBoxCommands(app, context, &action);
  AddCheckpointCommands(app, context, &action);
  AddTenantCommands(app, context, &action);
  AddGraphCommands(app, context, &action);
  AddOnnxCommands(app, context, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  Outcome outcome;
  try {
    outcome = action ? action() : UsageError(petabox::InvalidArgument("no command given"));
  } catch (const std::exception& e) {
    outcome = Outcome{kExitInternal, std::string("internal error: ") + e.what()};
  }
  if (!outcome.error.empty()) std::cerr << "petabox: " << outcome.error << "\n";
  return outcome.exit_code;
}
