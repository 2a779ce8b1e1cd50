// box.
#include <iostream>

#include "client/cli/box_view.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "client/lib/box_client.h"

namespace petabox::cli {
namespace {

Outcome RunBox(CommandContext& context) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  StatusOr<v1::Box> box = client::BoxClient(**connection).GetBox();
  if (!box.ok()) return context.RpcFailure(box.status());
  std::cout << (context.json() ? ToJson(*box) + "\n" : RenderBox(*box));
  return Success();
}

}  // namespace

void AddBoxCommands(CLI::App& app, CommandContext& context, Action* action) {
  CLI::App* box = app.add_subcommand("box", "Show the box: devices, what runs on them, the queue, the daemon's version");
  box->callback([&context, action] { *action = [&context] { return RunBox(context); }; });
}

}  // namespace petabox::cli
