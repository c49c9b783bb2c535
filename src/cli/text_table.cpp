#include "cli/text_table.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace trainyard::cli {

TextTable::TextTable(std::vector<std::string> headers, std::vector<bool> numeric)
    : headers_(std::move(headers)), numeric_(std::move(numeric)) {
  numeric_.resize(headers_.size(), false);
}

void TextTable::add_row(std::vector<std::string> cells) {
  TY_CHECK(cells.size() == headers_.size(), "TextTable row has " + std::to_string(cells.size()) +
                                                " cells for " + std::to_string(headers_.size()) +
                                                " columns");
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = headers_[c].size();
    for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string padding(widths[c] - cells[c].size(), ' ');
      if (c > 0) line += "  ";
      line += numeric_[c] ? padding + cells[c] : cells[c] + padding;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

std::string format_decimal(double value, int max_decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", max_decimals, value);
  std::string result = text;
  if (result.find('.') != std::string::npos) {
    result.erase(result.find_last_not_of('0') + 1);
    if (result.back() == '.') result.pop_back();
  }
  return result;
}

std::string format_decimal(const std::optional<double>& value, int max_decimals,
                           const std::string& unknown_text) {
  return value ? format_decimal(*value, max_decimals) : unknown_text;
}

}  // namespace trainyard::cli
