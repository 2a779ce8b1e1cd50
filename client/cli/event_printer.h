// EventPrinter: shows a job's event stream (JobEvent) in one of three forms:
//   kLive:  on a terminal, a progress line redrawn in place; state changes, evaluations and
//           checkpoints as lines of their own above it;
//   kLines: one line per event (progress included), for pipes and logs;
//   kJson:  one JSON object per event.
// Log-line events are left to `petabox logs` in the first two forms.
//
// Thread-compatible; writes only to the streams it was given.
#pragma once

#include <ostream>
#include <string>

#include "client/cli/terminal.h"
#include "petabox/v1/job.pb.h"

namespace petabox::cli {

enum class OutputMode { kLive, kLines, kJson };

class EventPrinter {
 public:
  // `width`: the terminal's columns (kLive only).
  EventPrinter(std::ostream& out, std::ostream& err, OutputMode mode, int width);

  void Print(const v1::JobEvent& event);
  // A message for the user ("reconnecting ...") on `err`, without garbling the live line.
  void Note(const std::string& text);
  // Ends the live line; call before printing anything else to `out`.
  void Finish();

 private:
  void PrintLine(const std::string& line);

  std::ostream& out_;
  std::ostream& err_;
  OutputMode mode_;
  int width_;
  LiveLine live_;
};

}  // namespace petabox::cli
