#include "keras/summary_table.h"

#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/error.h"

namespace trainyard::keras::detail {
namespace {

constexpr int kPadding = 2;  // one space left and right of every cell

// Terminal cells taken by UTF-8 `text`: one per code point (names are expected to be narrow
// characters; rich counts East Asian wide characters as two).
int cell_length(std::string_view text) {
  int cells = 0;
  for (char c : text) cells += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return cells;
}

// The first `cells` cells of `text`.
std::string take_cells(std::string_view text, int cells) {
  size_t end = 0;
  int taken = 0;
  while (end < text.size()) {
    bool starts_code_point = (static_cast<unsigned char>(text[end]) & 0xC0) != 0x80;
    if (starts_code_point && taken == cells) break;
    taken += starts_code_point ? 1 : 0;
    ++end;
  }
  return std::string(text.substr(0, end));
}

std::string rstrip(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// rich's ratio_reduce with equal ratios: takes `excess` cells from the columns in turn, each its
// rounded share of what is left (Python's round, half to even).
std::vector<int> reduce_evenly(int excess, std::vector<int> widths) {
  int remaining = excess;
  int remaining_columns = static_cast<int>(widths.size());
  for (int& width : widths) {
    int share = static_cast<int>(
        std::nearbyint(static_cast<double>(remaining) / static_cast<double>(remaining_columns)));
    int taken = std::min(width, share);
    width -= taken;
    remaining -= taken;
    --remaining_columns;
  }
  return widths;
}

// rich's divide_line without folding: break before a word that does not fit the rest of the line (a
// word being a run of non-spaces with the spaces after it); a word longer than the whole width gets
// a line of its own and is cut later.
std::vector<std::string> wrap_words(const std::string& text, int width) {
  std::vector<std::string> lines;
  std::string line;
  int offset = 0;
  size_t position = 0;
  while (position < text.size()) {
    size_t word_end = text.find_first_not_of(' ', position);
    word_end = word_end == std::string::npos ? text.size() : text.find(' ', word_end);
    word_end = word_end == std::string::npos ? text.size() : text.find_first_not_of(' ', word_end);
    word_end = word_end == std::string::npos ? text.size() : word_end;
    std::string word = text.substr(position, word_end - position);
    int word_length = cell_length(rstrip(word));
    bool breaks =
        width - offset < word_length && position > 0 && (word_length > width || offset > 0);
    if (breaks) {
      lines.push_back(line);
      line.clear();
      offset = 0;
    }
    line += word;
    offset += cell_length(word);
    position = word_end;
  }
  lines.push_back(line);
  return lines;
}

// One cell's lines, each exactly `width` cells: wrapped, then justified; overlong text ends in "…"
// (rich's overflow="ellipsis").
std::vector<std::string> layout_cell(const std::string& text, int width, CellAlign align) {
  std::vector<std::string> lines;
  for (std::string line : wrap_words(text, width)) {
    // rich's rstrip_end: trailing spaces go only where the line is too long.
    int excess = cell_length(line) - width;
    while (excess > 0 && !line.empty() && line.back() == ' ') {
      line.pop_back();
      --excess;
    }
    if (align == CellAlign::kRight) line = rstrip(line);
    if (cell_length(line) > width) line = take_cells(line, width - 1) + "…";
    std::string padding(static_cast<size_t>(width - cell_length(line)), ' ');
    lines.push_back(align == CellAlign::kRight ? padding + line : line + padding);
  }
  return lines;
}

std::string repeat(const char* piece, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) text += piece;
  return text;
}

// A horizontal rule: left corner, fill per column, junctions, right corner.
std::string rule(const std::vector<int>& widths, const char* left, const char* fill,
                 const char* junction, const char* right) {
  std::string text = left;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (i > 0) text += junction;
    text += repeat(fill, widths[i]);
  }
  return text + right + "\n";
}

std::string row_lines(const std::vector<std::string>& cells, std::span<const TableColumn> columns,
                      const std::vector<int>& widths, const char* edge) {
  std::vector<std::vector<std::string>> laid_out;
  size_t height = 1;
  for (size_t i = 0; i < cells.size(); ++i) {
    laid_out.push_back(layout_cell(cells[i], widths[i] - kPadding, columns[i].align));
    height = std::max(height, laid_out.back().size());
  }
  std::string text;
  for (size_t line = 0; line < height; ++line) {
    text += edge;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += edge;
      const auto& cell = laid_out[i];
      text += " ";
      text += line < cell.size() ? cell[line] : std::string(widths[i] - kPadding, ' ');
      text += " ";
    }
    text += edge;
    text += "\n";
  }
  return text;
}

}  // namespace

std::string render_table(std::span<const TableColumn> columns,
                         const std::vector<std::vector<std::string>>& rows, int line_length) {
  std::vector<int> widths;
  for (const TableColumn& column : columns) widths.push_back(column.width + kPadding);
  int borders = static_cast<int>(columns.size()) + 1;
  int available = line_length - borders;
  int total = std::accumulate(widths.begin(), widths.end(), 0);
  if (total > available) widths = reduce_evenly(total - available, std::move(widths));
  for (int width : widths) {
    if (width <= kPadding) {
      throw ValueError("summary: line_length " + std::to_string(line_length) +
                       " is too narrow for the table");
    }
  }

  std::vector<std::string> headers;
  for (const TableColumn& column : columns) headers.push_back(column.header);
  std::string text = rule(widths, "┏", "━", "┳", "┓");
  text += row_lines(headers, columns, widths, "┃");
  text += rule(widths, "┡", "━", "╇", "┩");
  for (size_t r = 0; r < rows.size(); ++r) {
    TY_CHECK(rows[r].size() == columns.size(), "summary row with the wrong number of cells");
    if (r > 0) text += rule(widths, "├", "─", "┼", "┤");
    text += row_lines(rows[r], columns, widths, "│");
  }
  text += rule(widths, "└", "─", "┴", "┘");
  return text;
}

std::string format_summary_shape(const Shape& shape) {
  std::string text = "(";
  for (int64_t i = 0; i < shape.rank(); ++i) {
    if (i > 0) text += ", ";
    text += i == 0 && shape[i] < 0 ? "None" : std::to_string(shape[i]);
  }
  return text + ")";
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return value < 0 ? "-" + text : text;
}

std::string readable_memory_size(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  char buffer[64];
  for (const char* unit : kUnits) {
    if (bytes / 1024 < 1) {
      std::snprintf(buffer, sizeof buffer, "%.2f %s", bytes, unit);
      return buffer;
    }
    bytes /= 1024;
  }
  std::snprintf(buffer, sizeof buffer, "%.2f PB", bytes);
  return buffer;
}

}  // namespace trainyard::keras::detail
