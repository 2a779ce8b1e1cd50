// Table: plain-text columns for the CLI's listings (jobs, devices, datasets). Columns are
// separated by two spaces and padded to their widest cell; lines carry no trailing spaces.
//
// Thread-compatible value type.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace petabox::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Adds a row; missing cells are blank, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  // Right-aligns a column (numbers).
  void AlignRight(size_t column);
  size_t rows() const { return rows_.size(); }
  // The header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// Columns `text` takes on a terminal: UTF-8 code points (no wide-character handling).
size_t DisplayWidth(std::string_view text);

}  // namespace petabox::cli
