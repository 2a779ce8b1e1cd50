#include "client/cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace petabox::cli {
namespace {

// Carriage return, then erase to the end of the line.
constexpr char kClearLine[] = "\r\033[K";

}  // namespace

bool IsTerminal(int fd) { return isatty(fd) == 1; }

int TerminalWidth(int fd) {
  winsize size{};
  if (IsTerminal(fd) && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void LiveLine::Show(const std::string& text) {
  out_ << kClearLine << text << std::flush;
  current_ = text;
}

void LiveLine::PrintAbove(const std::string& text) {
  out_ << kClearLine << text << "\n" << current_ << std::flush;
}

void LiveLine::Clear() {
  if (current_.empty()) return;
  out_ << kClearLine << std::flush;
}

void LiveLine::Redraw() {
  if (current_.empty()) return;
  out_ << current_ << std::flush;
}

void LiveLine::Finish() {
  if (!current_.empty()) out_ << "\n" << std::flush;
  current_.clear();
}

}  // namespace petabox::cli
