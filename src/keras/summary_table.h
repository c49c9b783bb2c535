// The pieces of Keras 3's model.summary() text that do not depend on the model: the table as the
// `rich` library draws it for Keras (heavy header box, a rule between rows, fixed column widths
// squeezed into the line length, words wrapped and long words cut with "…"), parameter counts with
// thousands separators and byte sizes as "1.23 KB".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"

namespace trainyard::keras::detail {

enum class CellAlign { kLeft, kRight };

struct TableColumn {
  std::string header;
  int width = 0;  // requested content width, before the table is fitted to the line
  CellAlign align = CellAlign::kLeft;
};

// The table Keras renders with rich.table.Table(*columns, width=line_length, show_lines=True):
// every line ends with '\n'. Each row holds one text per column. Column widths are first padded by
// one space on each side, then, when they and the borders exceed `line_length`, reduced evenly as
// rich does (rounding half to even).
std::string render_table(std::span<const TableColumn> columns,
                         const std::vector<std::vector<std::string>>& rows, int line_length);

// Keras's summary form of an output shape, batch first: "(None, 16)", "(None)" for rank 1.
std::string format_summary_shape(const Shape& shape);
// 1234567 -> "1,234,567" (Python's f"{n:,}").
std::string with_thousands(int64_t value);
// Keras's readable_memory_size: bytes scaled by 1024 into B, KB, MB, GB, TB or PB with two decimals
// ("592.00 B", "1.17 KB").
std::string readable_memory_size(double bytes);

}  // namespace trainyard::keras::detail
