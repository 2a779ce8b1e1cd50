// The terminal: whether a stream is one, its width, and LiveLine, a status line redrawn in
// place with '\r' while other lines scroll past above it.
#pragma once

#include <ostream>
#include <string>

namespace petabox::cli {

// Whether file descriptor `fd` is a terminal.
bool IsTerminal(int fd);
// Columns of the terminal on `fd`; 80 when it is not a terminal or does not say.
int TerminalWidth(int fd);

// A line at the bottom of a terminal that is rewritten in place. Thread-compatible; writes
// only to the stream it was given.
class LiveLine {
 public:
  explicit LiveLine(std::ostream& out) : out_(out) {}

  // Replaces the live line with `text` (which must fit the terminal's width).
  void Show(const std::string& text);
  // Prints `text` as a line of its own above the live line, then redraws the live line.
  void PrintAbove(const std::string& text);
  // Erases the live line from the screen (before writing to another stream); Redraw puts
  // it back.
  void Clear();
  void Redraw();
  // Leaves the live line as it is and moves to a new line (at the end).
  void Finish();

 private:
  std::ostream& out_;
  std::string current_;  // what the live line shows; "" when nothing
};

}  // namespace petabox::cli
