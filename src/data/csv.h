// Numeric CSV files into a float32 matrix: one row per line, one column per field, with an
// optional header row of column names. Fields may be quoted as in RFC 4180 (a quoted field
// may hold the delimiter and doubled quotes, not a line break). Blank lines are skipped.
// Files may be gzip-compressed (detected from the content).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/byte_source.h"

namespace trainyard::data {

struct CsvOptions {
  bool header = false;   // the first non-blank line holds column names; default: no header
  char delimiter = ',';  // default ','
};

struct CsvTable {
  Tensor values;                          // [rows, columns] float32
  std::vector<std::string> column_names;  // the header's names; empty without a header
};

// Reads the CSV at `path`. Numbers are parsed as C's strtof would ("1", "-2.5e3", "nan",
// "inf", a leading '+'), surrounded by optional spaces. Throws IOError when the file cannot
// be read, and DataError "<path>:<line>: column <c>: ..." for a field that is empty or not a
// number or out of float32 range, a row with a different field count than the first
// ("<path>:<line>: 3 fields, expected 4 as in line 1"), an unterminated quote, or a file
// with no lines at all.
CsvTable read_csv(const std::string& path, const CsvOptions& options = {});

// The same from any byte stream (a MemorySource for bytes already in memory); errors name
// source.name() where they name the path above.
CsvTable read_csv(ByteSource& source, const CsvOptions& options = {});

}  // namespace trainyard::data
