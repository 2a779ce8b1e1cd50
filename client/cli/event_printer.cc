#include "client/cli/event_printer.h"

#include "client/cli/format.h"
#include "client/cli/json.h"
#include "client/cli/progress.h"

namespace petabox::cli {

EventPrinter::EventPrinter(std::ostream& out, std::ostream& err, OutputMode mode, int width)
    : out_(out), err_(err), mode_(mode), width_(width), live_(out) {}

void EventPrinter::Print(const v1::JobEvent& event) {
  if (mode_ == OutputMode::kJson) {
    out_ << ToJson(event) << "\n" << std::flush;
    return;
  }
  switch (event.kind_case()) {
    case v1::JobEvent::kProgress:
      if (mode_ == OutputMode::kLive) {
        live_.Show(RenderProgressLine(event.progress(), width_));
      } else {
        PrintLine(RenderProgressRecord(event.progress()));
      }
      break;
    case v1::JobEvent::kStateChange:
      // The job's end freezes the last progress line above the final lines.
      if (mode_ == OutputMode::kLive && IsTerminalState(event.state_change().state())) live_.Finish();
      PrintLine(RenderStateChange(event.state_change()));
      break;
    case v1::JobEvent::kEval: PrintLine(RenderEval(event.eval())); break;
    case v1::JobEvent::kCheckpoint: PrintLine(RenderCheckpointSaved(event.checkpoint())); break;
    case v1::JobEvent::kLog:
    case v1::JobEvent::KIND_NOT_SET: break;
  }
}

void EventPrinter::PrintLine(const std::string& line) {
  if (mode_ == OutputMode::kLive) {
    live_.PrintAbove(line);
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void EventPrinter::Note(const std::string& text) {
  if (mode_ == OutputMode::kLive) live_.Clear();
  out_ << std::flush;
  err_ << "petabox: " << text << "\n" << std::flush;
  if (mode_ == OutputMode::kLive) live_.Redraw();
}

void EventPrinter::Finish() {
  if (mode_ == OutputMode::kLive) live_.Finish();
}

}  // namespace petabox::cli
