// Cleanup: runs a function once when it goes out of scope (absl::Cleanup's idea). A
// function that starts several pieces declares one Cleanup right after each start, so on
// every return, early or not, each started piece is undone once and in reverse order.
//
//   std::thread loop([&] { io.run(); });
//   Cleanup stop_loop([&] { io.stop(); loop.join(); });
//   PB_RETURN_IF_ERROR(NextStep());  // the loop stops here too
//
// Thread-compatible; not copyable or movable, so the function cannot run twice.
#pragma once

#include <utility>

namespace petabox::daemon {

template <typename F>
class [[nodiscard]] Cleanup {
 public:
  explicit Cleanup(F f) : f_(std::move(f)) {}
  ~Cleanup() { f_(); }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  F f_;
};

}  // namespace petabox::daemon
