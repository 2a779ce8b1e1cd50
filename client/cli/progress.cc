#include "client/cli/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "client/cli/format.h"
#include "client/cli/table.h"

namespace petabox::cli {
namespace {

constexpr int kMinBarWidth = 12;
constexpr int kMaxBarWidth = 42;

double Fraction(const v1::JobProgress& progress) {
  if (progress.total_steps() <= 0) return 0;
  return std::clamp(static_cast<double>(progress.step()) / static_cast<double>(progress.total_steps()), 0.0, 1.0);
}

std::string Steps(const v1::JobProgress& progress) {
  std::string steps = std::to_string(progress.step());
  if (progress.total_steps() > 0) steps += "/" + std::to_string(progress.total_steps());
  return steps;
}

std::string Eta(const v1::JobProgress& progress) {
  if (progress.eta_seconds() <= 0) {
    return progress.total_steps() > 0 && progress.step() >= progress.total_steps() ? "0s" : "--";
  }
  return FormatDuration(progress.eta_seconds());
}

// Cuts `text` to at most `columns` display columns (whole UTF-8 sequences).
std::string Cut(const std::string& text, size_t columns) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (seen++ == columns) return text.substr(0, i);
  }
  return text;
}

// float16 loss scaling, shown only where it says something: " scale 65536 skipped 2".
std::string LossScaling(const v1::JobProgress& progress, const char* sep) {
  std::string s;
  if (progress.loss_scale() > 0 && progress.loss_scale() != 1) s += sep + std::string("scale ") + FormatRate(progress.loss_scale());
  if (progress.skipped_steps() > 0) s += sep + std::string("skipped ") + std::to_string(progress.skipped_steps());
  return s;
}

}  // namespace

std::string RenderBar(double fraction, int width) {
  const int inner = std::max(0, width - 2);
  fraction = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
  const int filled = static_cast<int>(fraction * inner);
  std::string bar = "[" + std::string(filled, '=');
  if (filled < inner) bar += ">" + std::string(inner - filled - 1, ' ');
  return bar + "]";
}

std::string RenderProgressLine(const v1::JobProgress& progress, int width) {
  const size_t columns = static_cast<size_t>(std::max(1, width - 1));
  std::string head = "epoch " + std::to_string(progress.epoch()) + "  step " + Steps(progress);
  std::string tail;
  if (progress.total_steps() > 0) tail += "  " + std::to_string(static_cast<int>(Fraction(progress) * 100)) + "%";
  tail += "  loss " + FormatLoss(progress.loss());
  tail += "  " + FormatRate(progress.samples_per_second()) + " samples/s";
  tail += LossScaling(progress, "  ");
  tail += "  ETA " + Eta(progress);
  if (progress.total_steps() > 0) {
    const int room = static_cast<int>(columns) - static_cast<int>(DisplayWidth(head) + DisplayWidth(tail)) - 1;
    if (room >= kMinBarWidth) head += " " + RenderBar(Fraction(progress), std::min(room, kMaxBarWidth));
  }
  return Cut(head + tail, columns);
}

std::string RenderProgressRecord(const v1::JobProgress& progress) {
  return "progress " + RenderProgressFields(progress);
}

std::string RenderProgressFields(const v1::JobProgress& progress) {
  return "epoch " + std::to_string(progress.epoch()) + " step " + Steps(progress) + " loss " +
         FormatLoss(progress.loss()) + " samples/s " + FormatRate(progress.samples_per_second()) +
         LossScaling(progress, " ") + " eta " + Eta(progress);
}

std::string RenderStateChange(const v1::StateChange& change) {
  std::string line = "state " + JobStateName(change.state());
  if (change.devices_size() > 0) {
    line += " on ";
    for (int i = 0; i < change.devices_size(); ++i) line += (i ? "," : "") + change.devices(i);
  }
  if (!change.reason().empty()) line += ": " + change.reason();
  return line;
}

std::string RenderEval(const v1::EvalResult& eval) {
  std::string line = "eval epoch " + std::to_string(eval.epoch()) + " step " + std::to_string(eval.step()) +
                     ": test accuracy " + FormatPercent(eval.test_accuracy()) + ", test loss " +
                     FormatLoss(eval.test_loss());
  if (eval.examples() > 0) line += " (" + std::to_string(eval.examples()) + " examples)";
  return line;
}

std::string RenderCheckpointSaved(const v1::CheckpointSaved& checkpoint) {
  return "checkpoint saved at epoch " + std::to_string(checkpoint.epoch()) + " step " +
         std::to_string(checkpoint.step());
}

std::string RenderResult(const v1::JobResult& result) {
  char epochs[32];
  std::snprintf(epochs, sizeof epochs, "%g", result.epochs());
  return "test accuracy " + FormatPercent(result.test_accuracy()) + ", test loss " + FormatLoss(result.test_loss()) +
         ", final loss " + FormatLoss(result.final_loss()) + ", " + FormatRate(result.train_samples_per_second()) +
         " samples/s, time " + FormatDuration(result.seconds()) + " (" + std::to_string(result.steps()) + " steps, " +
         epochs + " epochs)";
}

}  // namespace petabox::cli

namespace petabox::cli {

std::string RenderJobEnd(const std::string& name, v1::Job::State state, const std::string& reason,
                         const v1::JobResult* result) {
  std::string line = name + " " + JobStateName(state);
  if (state == v1::Job::SUCCEEDED && result != nullptr) return line + ": " + RenderResult(*result);
  if (!reason.empty()) line += ": " + reason;
  return line;
}

}  // namespace petabox::cli
