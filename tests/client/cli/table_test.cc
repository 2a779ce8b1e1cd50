#include "client/cli/table.h"

#include <gtest/gtest.h>

namespace petabox::cli {
namespace {

TEST(Table, PadsColumnsAndTrimsTrailingSpaces) {
  Table table({"NAME", "STATE", "LOSS"});
  table.AlignRight(2);
  table.AddRow({"jobs/j-1", "RUNNING", "0.25"});
  table.AddRow({"jobs/j-22", "QUEUED", "-"});
  EXPECT_EQ(table.Render(),
            "NAME       STATE    LOSS\n"
            "jobs/j-1   RUNNING  0.25\n"
            "jobs/j-22  QUEUED      -\n");
  EXPECT_EQ(table.rows(), 2u);
}

TEST(Table, MissingCellsAreBlankAndExtraDropped) {
  Table table({"A", "B"});
  table.AddRow({"x"});
  table.AddRow({"1", "2", "3"});
  EXPECT_EQ(table.Render(), "A  B\nx\n1  2\n");
}

TEST(Table, HeaderOnly) { EXPECT_EQ(Table({"A", "BB"}).Render(), "A  BB\n"); }

TEST(Table, Utf8Width) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("\xC3\xA9t\xC3\xA9"), 3u);  // "été"
  Table table({"N", "X"});
  table.AddRow({"\xC3\xA9", "1"});
  table.AddRow({"ab", "2"});
  EXPECT_EQ(table.Render(), "N   X\n\xC3\xA9   1\nab  2\n");
}

}  // namespace
}  // namespace petabox::cli
