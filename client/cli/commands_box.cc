// box [--watch].
#include <unistd.h>

#include <iostream>
#include <memory>

#include "client/cli/box_view.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "client/cli/terminal.h"
#include "client/lib/box_client.h"

namespace petabox::cli {
namespace {

// On a terminal each box replaces the last one (cursor home, clear screen); otherwise the
// boxes follow each other, separated by a blank line (--json: one object per line).
Status PrintWatched(const v1::Box& box, bool json, bool terminal, bool* first) {
  if (json) {
    std::cout << ToJson(box) << "\n";
  } else if (terminal) {
    std::cout << "\x1b[H\x1b[2J" << RenderBox(box);
  } else {
    std::cout << (*first ? "" : "\n") << RenderBox(box);
  }
  *first = false;
  std::cout.flush();
  if (!std::cout) return Unavailable("cannot write to stdout");
  return Status::Ok();
}

Outcome RunBox(CommandContext& context, bool watch) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  const client::BoxClient client(**connection);
  if (!watch) {
    StatusOr<v1::Box> box = client.GetBox();
    if (!box.ok()) return context.RpcFailure(box.status());
    std::cout << (context.json() ? ToJson(*box) + "\n" : RenderBox(*box));
    return Success();
  }
  bool first = true;
  const bool terminal = IsTerminal(STDOUT_FILENO);
  bool output_failed = false;
  Status status = client.WatchBox([&](const v1::Box& box) {
    Status s = PrintWatched(box, context.json(), terminal, &first);
    output_failed = !s.ok();
    return s;
  });
  if (output_failed || status.ok()) return Success();  // stdout closed (| head), or the stream ended
  return context.RpcFailure(status);
}

}  // namespace

void AddBoxCommands(CLI::App& app, CommandContext& context, Action* action) {
  CLI::App* box = app.add_subcommand(
      "box", "Show the box: devices with live busy %, TFLOP/s, watts, GFLOPS/W and memory, the queue, the daemon");
  auto watch = std::make_shared<bool>(false);
  box->add_flag("--watch", *watch, "Keep showing the box, refreshed at every telemetry sample (Ctrl-C ends)");
  box->callback([&context, action, watch] { *action = [&context, watch] { return RunBox(context, *watch); }; });
}

}  // namespace petabox::cli
