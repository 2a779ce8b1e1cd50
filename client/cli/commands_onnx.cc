// onnx check: an ONNX model evaluated against an ONNX test data set (daemon/graph/
// onnx_check.h); needs no daemon. Prints one JSON line; exits 0 on pass, 2 when the model
// or its data is refused (unsupported or malformed, named in the message), 1 on a wrong
// answer (a bug in petabox).
#include <iostream>
#include <memory>

#include "client/cli/commands.h"
#include "daemon/graph/onnx_check.h"

namespace petabox::cli {
namespace {

struct OnnxCheckArgs {
  std::string model;
  graph::OnnxCheckOptions options;
};

Outcome RunOnnxCheck(const OnnxCheckArgs& args) {
  const graph::OnnxCheckResult r = graph::CheckOnnxModel(args.model, args.options);
  std::cout << graph::OnnxCheckJson(r) << "\n";
  switch (r.verdict) {
    case graph::OnnxVerdict::kPass: return Success();
    case graph::OnnxVerdict::kRefused: return Outcome{kExitUsage, ""};
    case graph::OnnxVerdict::kFail: return Outcome{kExitInternal, ""};
  }
  return Outcome{kExitInternal, "unknown verdict"};
}

}  // namespace

void AddOnnxCommands(CLI::App& app, CommandContext& context, Action* action) {
  (void)context;
  auto args = std::make_shared<OnnxCheckArgs>();
  CLI::App* onnx = app.add_subcommand("onnx", "ONNX models without a daemon");
  onnx->require_subcommand(1);
  CLI::App* cmd = onnx->add_subcommand(
      "check", "Evaluate an ONNX model on a test data set and compare its outputs (one JSON line)");
  cmd->add_option("model", args->model, "The model (*.onnx)")->required();
  cmd->add_option("--data", args->options.data_dir,
                  "A test data set directory (input_*.pb, output_*.pb); without it, seeded random inputs");
  cmd->add_option("--device", args->options.device, "Where to run (default CPU:0)");
  cmd->add_option("--rtol", args->options.rtol, "Relative tolerance (default 1e-3)");
  cmd->add_option("--atol", args->options.atol, "Absolute tolerance (default 1e-4)");
  cmd->add_option("--seed", args->options.seed, "Seed of the random inputs (default 0)");
  cmd->callback([action, args] { *action = [args] { return RunOnnxCheck(*args); }; });
}

}  // namespace petabox::cli
