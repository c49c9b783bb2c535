// Plain-text tables and number formatting for the trainyard command's human-readable output.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace trainyard::cli {

// Columns sized to their widest cell, two spaces apart; columns marked numeric are
// right-aligned so digits line up.
class TextTable {
 public:
  // `numeric[i]` right-aligns column i; missing entries mean left-aligned.
  explicit TextTable(std::vector<std::string> headers, std::vector<bool> numeric = {});

  // REQUIRES: cells.size() == the number of headers.
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> numeric_;
  std::vector<std::vector<std::string>> rows_;
};

// `value` with at most `max_decimals` decimals and no trailing zeros: 7.5, 1152, 0.736.
std::string format_decimal(double value, int max_decimals);
// format_decimal of a known value, `unknown_text` for an empty one.
std::string format_decimal(const std::optional<double>& value, int max_decimals,
                           const std::string& unknown_text = "unknown");

}  // namespace trainyard::cli
