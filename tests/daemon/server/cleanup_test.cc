// Cleanup: runs once at scope exit, early returns included, in reverse order of declaration.
#include "daemon/server/cleanup.h"

#include <gtest/gtest.h>

#include <string>

namespace petabox::daemon {
namespace {

// Starts pieces "a", "b", "c" in order, stopping after `fail_after` of them (an early
// return); each started piece appends its name in upper case when undone.
void StartPieces(int fail_after, std::string* log) {
  *log += "a";
  Cleanup undo_a([log] { *log += "A"; });
  if (fail_after == 1) return;
  *log += "b";
  Cleanup undo_b([log] { *log += "B"; });
  if (fail_after == 2) return;
  *log += "c";
  Cleanup undo_c([log] { *log += "C"; });
}

TEST(CleanupTest, UndoesEachStartedPieceOnceInReverseOrder) {
  for (const auto& [fail_after, expected] :
       {std::pair<int, std::string>{1, "aA"}, {2, "abBA"}, {3, "abcCBA"}}) {
    std::string log;
    StartPieces(fail_after, &log);
    EXPECT_EQ(log, expected) << "fail_after " << fail_after;
  }
}

}  // namespace
}  // namespace petabox::daemon
