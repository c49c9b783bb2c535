#include "jobs/staging/python_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "jobs/unicode_tables.h"
#include "jobs/utf8.h"

namespace trainyard::jobs {
namespace {

using Kind = PythonValue::Kind;

// Deeper JSON is kept as the raw string (CPython would raise RecursionError near 1000).
constexpr size_t kMaxDepth = 512;

// Builds a PythonValue from nlohmann's SAX events, keeping integers of any size.
class Builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return add(PythonValue::none()); }
  bool boolean(bool value) override { return add(PythonValue::from_bool(value)); }
  bool number_integer(number_integer_t value) override { return add(PythonValue::from_int(value)); }
  bool number_unsigned(number_unsigned_t value) override {
    PythonValue number;
    number.kind = Kind::kInt;
    number.text = std::to_string(value);
    return add(std::move(number));
  }
  bool number_float(number_float_t value, const string_t& raw) override {
    PythonValue number;
    if (raw.find_first_of(".eE") == string_t::npos) {
      // An integer too large for 64 bits: Python keeps it exactly.
      number.kind = Kind::kInt;
      number.text = raw;
    } else {
      number.kind = Kind::kFloat;
      number.number = value;
    }
    return add(std::move(number));
  }
  bool string(string_t& value) override { return add(PythonValue::from_string(value)); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open(Kind::kDict); }
  bool key(string_t& value) override {
    keys_.back() = value;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Kind::kList); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

  std::optional<PythonValue>& result() { return result_; }

 private:
  bool open(Kind kind) {
    if (open_.size() >= kMaxDepth) return false;
    PythonValue container;
    container.kind = kind;
    open_.push_back(std::move(container));
    keys_.emplace_back();
    return true;
  }
  bool close() {
    PythonValue done = std::move(open_.back());
    open_.pop_back();
    keys_.pop_back();
    return add(std::move(done));
  }
  bool add(PythonValue value) {
    if (open_.empty()) {
      result_ = std::move(value);
      return true;
    }
    PythonValue& top = open_.back();
    if (top.kind == Kind::kList) {
      top.items.push_back(std::move(value));
      return true;
    }
    // A repeated key keeps its first position and takes the last value, as a Python dict.
    const std::string& key = keys_.back();
    for (auto& entry : top.entries) {
      if (entry.first == key) {
        entry.second = std::move(value);
        return true;
      }
    }
    top.entries.emplace_back(key, std::move(value));
    return true;
  }

  std::vector<PythonValue> open_;
  std::vector<std::string> keys_;
  std::optional<PythonValue> result_;
};

std::string_view strip_json_whitespace(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\n\r";
  size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

PythonValue float_value(double number) {
  PythonValue value;
  value.kind = Kind::kFloat;
  value.number = number;
  return value;
}

// float.__repr__: the shortest digits that round-trip, fixed notation for decimal
// exponents -5 < e < 16, else d.ddde+XX.
std::string float_repr(double number) {
  if (std::isnan(number)) return "nan";
  if (std::isinf(number)) return number > 0 ? "inf" : "-inf";
  char buffer[64];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), number, std::chars_format::scientific);
  std::string scientific(buffer, end);
  std::string sign;
  if (scientific.front() == '-') {
    sign = "-";
    scientific.erase(0, 1);
  }
  size_t e = scientific.find('e');
  std::string digits = scientific.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(scientific.substr(e + 1));
  std::string out;
  if (exponent < -4 || exponent >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    std::string magnitude = std::to_string(std::abs(exponent));
    if (magnitude.size() < 2) magnitude.insert(0, "0");
    out += std::string(exponent < 0 ? "e-" : "e+") + magnitude;
  } else if (exponent >= 0) {
    size_t integer_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= integer_digits) {
      out = digits + std::string(integer_digits - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
    }
  } else {
    out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  return sign + out;
}

void append_hex(std::string& out, uint32_t value, int width) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(value >> shift) & 15]);
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// The code points of `text`; bytes of malformed UTF-8 (never produced by the parser) are
// taken one by one as Latin-1.
std::vector<char32_t> code_points(std::string_view text) {
  if (auto decoded = detail::decode_utf8(text)) return *decoded;
  std::vector<char32_t> bytes;
  for (char c : text) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

// str.isprintable() for code points above ASCII, less the unassigned ones (see header).
bool is_printable_non_ascii(char32_t c) {
  static const std::vector<detail::CodePointRange> kFormatAndPrivate = {
      {0x80, 0x9F},       {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
      {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},     {0x8E2, 0x8E2},
      {0x180E, 0x180E},   {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},
      {0x2066, 0x206F},   {0xD800, 0xF8FF},   {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},
      {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
      {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
      {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF}};
  if (detail::in_ranges(kFormatAndPrivate, c)) return false;
  return !detail::in_ranges(detail::unicode_separator_ranges(), c);
}

std::string repr_string(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : code_points(text)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c < 0x80 || is_printable_non_ascii(c)) {
      append_utf8(out, c);
    } else if (c <= 0xFF) {
      out += "\\x";
      append_hex(out, c, 2);
    } else if (c <= 0xFFFF) {
      out += "\\u";
      append_hex(out, c, 4);
    } else {
      out += "\\U";
      append_hex(out, c, 8);
    }
  }
  out.push_back(quote);
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char32_t c : code_points(text)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c >= 0x20 && c < 0x7F) {
          out.push_back(static_cast<char>(c));
        } else if (c < 0x10000) {
          out += "\\u";
          append_hex(out, c, 4);
        } else {
          char32_t v = c - 0x10000;  // a UTF-16 surrogate pair, as ensure_ascii writes it
          out += "\\u";
          append_hex(out, 0xD800 + (v >> 10), 4);
          out += "\\u";
          append_hex(out, 0xDC00 + (v & 0x3FF), 4);
        }
    }
  }
  out.push_back('"');
  return out;
}

template <typename Json>
PythonValue from_json(const Json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return PythonValue::none();
    case nlohmann::json::value_t::boolean:
      return PythonValue::from_bool(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return PythonValue::from_int(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      PythonValue number;
      number.kind = Kind::kInt;
      number.text = std::to_string(json.template get<uint64_t>());
      return number;
    }
    case nlohmann::json::value_t::number_float:
      return float_value(json.template get<double>());
    case nlohmann::json::value_t::string:
      return PythonValue::from_string(json.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<PythonValue> items;
      for (const auto& item : json) items.push_back(from_json(item));
      return PythonValue::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::string, PythonValue>> entries;
      for (auto it = json.begin(); it != json.end(); ++it) {
        entries.emplace_back(it.key(), from_json(it.value()));
      }
      return PythonValue::dict(std::move(entries));
    }
    default:
      return PythonValue::none();  // binary and discarded values never occur here
  }
}

}  // namespace

PythonValue PythonValue::from_bool(bool value) {
  PythonValue result;
  result.kind = Kind::kBool;
  result.boolean = value;
  return result;
}

PythonValue PythonValue::from_int(long long value) {
  PythonValue result;
  result.kind = Kind::kInt;
  result.text = std::to_string(value);
  return result;
}

PythonValue PythonValue::from_string(std::string value) {
  PythonValue result;
  result.kind = Kind::kString;
  result.text = std::move(value);
  return result;
}

PythonValue PythonValue::list(std::vector<PythonValue> items) {
  PythonValue result;
  result.kind = Kind::kList;
  result.items = std::move(items);
  return result;
}

PythonValue PythonValue::dict(std::vector<std::pair<std::string, PythonValue>> entries) {
  PythonValue result;
  result.kind = Kind::kDict;
  result.entries = std::move(entries);
  return result;
}

PythonValue decode_hyperparameter(std::string_view text) {
  std::string_view stripped = strip_json_whitespace(text);
  if (stripped == "NaN") return float_value(std::numeric_limits<double>::quiet_NaN());
  if (stripped == "Infinity") return float_value(std::numeric_limits<double>::infinity());
  if (stripped == "-Infinity") return float_value(-std::numeric_limits<double>::infinity());
  Builder builder;
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  if (ok && builder.result()) return std::move(*builder.result());
  return PythonValue::from_string(std::string(text));
}

PythonValue python_value_from_json(const nlohmann::json& json) {
  return from_json(json);
}
PythonValue python_value_from_json(const nlohmann::ordered_json& json) {
  return from_json(json);
}

std::string python_repr(const PythonValue& value) {
  switch (value.kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return value.boolean ? "True" : "False";
    case Kind::kInt:
      return value.text;
    case Kind::kFloat:
      return float_repr(value.number);
    case Kind::kString:
      return repr_string(value.text);
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < value.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += python_repr(value.items[i]);
      }
      return out + "]";
    }
    case Kind::kDict: {
      std::string out = "{";
      for (size_t i = 0; i < value.entries.size(); ++i) {
        if (i > 0) out += ", ";
        out += repr_string(value.entries[i].first) + ": " + python_repr(value.entries[i].second);
      }
      return out + "}";
    }
  }
  return {};
}

std::string python_str(const PythonValue& value) {
  return value.kind == Kind::kString ? value.text : python_repr(value);
}

std::string python_json_dumps(const PythonValue& value) {
  switch (value.kind) {
    case Kind::kNone:
      return "null";
    case Kind::kBool:
      return value.boolean ? "true" : "false";
    case Kind::kInt:
      return value.text;
    case Kind::kFloat:
      if (std::isnan(value.number)) return "NaN";
      if (std::isinf(value.number)) return value.number > 0 ? "Infinity" : "-Infinity";
      return float_repr(value.number);
    case Kind::kString:
      return json_string(value.text);
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < value.items.size(); ++i) {
        if (i > 0) out += ",";
        out += python_json_dumps(value.items[i]);
      }
      return out + "]";
    }
    case Kind::kDict: {
      std::vector<const std::pair<std::string, PythonValue>*> sorted;
      for (const auto& entry : value.entries) sorted.push_back(&entry);
      // Python sorts str keys by code point, which is UTF-8 byte order.
      std::sort(sorted.begin(), sorted.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      std::string out = "{";
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0) out += ",";
        out += json_string(sorted[i]->first) + ":" + python_json_dumps(sorted[i]->second);
      }
      return out + "}";
    }
  }
  return {};
}

bool python_truthy(const PythonValue& value) {
  switch (value.kind) {
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return value.boolean;
    case Kind::kInt:
      return value.text != "0";
    case Kind::kFloat:
      return value.number != 0;
    case Kind::kString:
      return !value.text.empty();
    case Kind::kList:
      return !value.items.empty();
    case Kind::kDict:
      return !value.entries.empty();
  }
  return false;
}

}  // namespace trainyard::jobs
