// export: zoo models as training graphs (proto/petabox/v1/graph.proto).
#include <iostream>
#include <memory>

#include "client/cli/commands.h"
#include "client/lib/graph_export.h"
#include "daemon/graph/graph_proto.h"
#include "engine/nn/models.h"

namespace petabox::cli {
namespace {

struct ExportArgs {
  std::string model;
  std::string output;
  uint64_t seed = 0;
  double label_smoothing = 0;
};

int64_t Values(const std::vector<graph::IrTensor>& tensors) {
  int64_t n = 0;
  for (const graph::IrTensor& t : tensors) n += Product(t.shape);
  return n;
}

Outcome RunExport(const ExportArgs& args) {
  StatusOr<std::vector<int64_t>> sample = nn::ModelSampleShape(args.model);
  StatusOr<graph::GraphIr> g = sample.ok() ? client::ExportZooModel(args.model, args.seed, *sample, args.label_smoothing)
                                           : StatusOr<graph::GraphIr>(sample.status());
  if (!g.ok()) return UsageError(g.status());
  if (Status s = graph::WriteGraphFile(args.output, *g); !s.ok()) return UsageError(s);
  Shape input = {-1};
  input.insert(input.end(), sample->begin(), sample->end());
  std::string shape = ShapeToString(input);
  shape.replace(1, 2, "N");
  std::cout << args.output << ": " << args.model << " (seed " << args.seed << "), " << g->nodes.size() << " nodes, "
            << g->parameters.size() << " parameters (" << Values(g->parameters) << " values), " << g->state.size()
            << " state tensors; inputs input " << shape << " and label (N,), outputs loss, train_logits, logits\n";
  return Success();
}

}  // namespace

void AddGraphCommands(CLI::App& app, CommandContext& context, Action* action) {
  (void)context;
  auto args = std::make_shared<ExportArgs>();
  std::string models;
  for (const std::string& m : nn::ModelNames()) models += (models.empty() ? "" : ", ") + m;
  CLI::App* cmd = app.add_subcommand(
      "export", "Write a zoo model as a training graph file (train it with model: graph, graph: FILE)");
  cmd->add_option("--model", args->model, "Zoo model: " + models)->required();
  cmd->add_option("-o,--output", args->output, "Graph file to write (*.pbgraph)")->required();
  cmd->add_option("--seed", args->seed, "Initialise the parameters as a job with this seed does (default 0)");
  cmd->add_option("--label-smoothing", args->label_smoothing, "The loss's label smoothing (default 0)");
  cmd->callback([action, args] { *action = [args] { return RunExport(*args); }; });
}

}  // namespace petabox::cli
