#include "data/csv.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "data/file_source.h"
#include "data/message_text.h"

namespace trainyard::data {
namespace {

std::string read_text(ByteSource& source) {
  // Reserve what an uncompressed input declares (capped: a huge file grows as it arrives),
  // so the text is copied once, with no zero-filled slack.
  constexpr uint64_t kMaxReserve = uint64_t{256} << 20;
  std::string text;
  if (auto remaining = source.remaining_bytes()) {
    text.reserve(static_cast<size_t>(std::min(*remaining, kMaxReserve)));
  }
  std::array<char, size_t{1} << 16> chunk;
  for (;;) {
    size_t count = source.read_some(chunk.data(), chunk.size());
    if (count == 0) return text;
    text.append(chunk.data(), count);
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits one line into fields, undoing RFC 4180 quoting. `where` prefixes errors.
void split_fields(std::string_view line, char delimiter, const std::string& where,
                  std::vector<std::string>& fields) {
  fields.clear();
  size_t position = 0;
  for (;;) {
    std::string field;
    // Leading spaces before an opening quote are allowed.
    size_t start = position;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    if (start < line.size() && line[start] == '"') {
      size_t cursor = start + 1;
      for (;;) {
        if (cursor >= line.size()) {
          throw DataError(where + ": column " + std::to_string(fields.size() + 1) +
                          ": unterminated quoted field");
        }
        if (line[cursor] == '"') {
          if (cursor + 1 < line.size() && line[cursor + 1] == '"') {
            field += '"';
            cursor += 2;
            continue;
          }
          ++cursor;
          break;
        }
        field += line[cursor++];
      }
      while (cursor < line.size() && (line[cursor] == ' ' || line[cursor] == '\t')) ++cursor;
      if (cursor < line.size() && line[cursor] != delimiter) {
        throw DataError(where + ": column " + std::to_string(fields.size() + 1) +
                        ": text after the closing quote");
      }
      position = cursor;
    } else {
      size_t end = line.find(delimiter, position);
      if (end == std::string_view::npos) end = line.size();
      field = std::string(trim(line.substr(position, end - position)));
      position = end;
    }
    fields.push_back(std::move(field));
    if (position >= line.size()) return;
    ++position;  // past the delimiter
  }
}

// Kept out of line: it is cold, and inlining the string building trips a false -Wrestrict
// in g++ 12.
[[noreturn]] [[gnu::noinline]] void throw_field_error(const std::string& where, size_t column,
                                                      std::string_view text, const char* why) {
  std::string message = where + ": column " + std::to_string(column) + ": ";
  if (!text.empty()) {
    message += '\'';
    message += detail::printable(text);
    message += "' ";
  }
  message += why;
  throw DataError(message);
}

float parse_number(std::string_view field, const std::string& where, size_t column) {
  std::string_view text = trim(field);
  if (text.empty()) throw_field_error(where, column, text, "empty field, expected a number");
  std::string_view digits = text;
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-') digits.remove_prefix(1);
  float value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range) {
    throw_field_error(where, column, text, "is out of the float32 range");
  }
  if (error != std::errc() || end != digits.data() + digits.size()) {
    throw_field_error(where, column, text, "is not a number");
  }
  return value;
}

}  // namespace

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  FileSource source(path);
  return read_csv(source, options);
}

CsvTable read_csv(ByteSource& source, const CsvOptions& options) {
  const std::string& path = source.name();
  std::string text = read_text(source);
  if (text.find('\0') != std::string::npos) {
    throw DataError(path + ": holds NUL bytes; not a text CSV file");
  }

  CsvTable table;
  std::vector<float> values;
  std::vector<std::string> fields;
  size_t columns = 0;
  size_t first_line = 0;  // the line that fixed the column count
  int64_t rows = 0;
  size_t line_number = 0;
  size_t position = 0;
  while (position < text.size()) {
    size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + position, end - position);
    position = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;

    std::string where = path + ":" + std::to_string(line_number);
    split_fields(line, options.delimiter, where, fields);
    if (first_line == 0) {
      columns = fields.size();
      first_line = line_number;
      if (options.header) {
        table.column_names = fields;
        continue;
      }
    } else if (fields.size() != columns) {
      throw DataError(where + ": " + std::to_string(fields.size()) + " fields, expected " +
                      std::to_string(columns) + " as in line " + std::to_string(first_line));
    }
    for (size_t column = 0; column < fields.size(); ++column) {
      values.push_back(parse_number(fields[column], where, column + 1));
    }
    ++rows;
  }
  if (first_line == 0) throw DataError(path + ": the CSV file has no lines");

  table.values = Tensor::zeros(Shape{rows, static_cast<int64_t>(columns)}, DType::kFloat32);
  if (!values.empty()) {
    std::memcpy(table.values.raw_data(), values.data(), values.size() * sizeof(float));
  }
  return table;
}

}  // namespace trainyard::data
