#include "keras/saving/filepath_template.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "keras/python_format.h"

namespace trainyard::keras::saving {
namespace {

// One parsed format spec; defaults are Python's.
struct Spec {
  char fill = ' ';
  char align = 0;  // 0: Python's default for numbers, right
  char sign = '-';
  int width = 0;
  int precision = -1;  // -1: not given
  char type = 0;       // 0: no type
};

class Formatter {
 public:
  explicit Formatter(std::string_view pattern) : pattern_(pattern) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw ValueError("Failed to format the filepath \"" + std::string(pattern_) + "\": " + why);
  }

  Spec parse_spec(std::string_view text) const {
    Spec spec;
    size_t at = 0;
    auto is_align = [](char c) { return c == '<' || c == '>' || c == '=' || c == '^'; };
    bool explicit_fill = false;
    if (text.size() >= 2 && is_align(text[1])) {
      spec.fill = text[0];
      spec.align = text[1];
      explicit_fill = true;
      at = 2;
    } else if (!text.empty() && is_align(text[0])) {
      spec.align = text[0];
      at = 1;
    }
    if (at < text.size() && (text[at] == '+' || text[at] == '-' || text[at] == ' ')) {
      spec.sign = text[at++];
    }
    if (at < text.size() && (text[at] == 'z' || text[at] == '#')) {
      fail("the '" + std::string(1, text[at]) + "' option is not supported");
    }
    if (at < text.size() && text[at] == '0') {
      // Python's sign-aware zero padding: "05d" pads -3 as "-0003".
      if (!explicit_fill) spec.fill = '0';
      if (!spec.align) spec.align = '=';
      ++at;
    }
    spec.width = read_number(text, at);
    if (at < text.size() && (text[at] == ',' || text[at] == '_')) {
      fail("digit grouping ('" + std::string(1, text[at]) + "') is not supported");
    }
    if (at < text.size() && text[at] == '.') {
      ++at;
      size_t digits_start = at;
      spec.precision = read_number(text, at);
      if (at == digits_start) fail("format specifier missing precision");
    }
    if (at < text.size()) spec.type = text[at++];
    if (at != text.size()) fail("invalid format specifier '" + std::string(text) + "'");
    return spec;
  }

  std::string format(const TemplateValue& value, const Spec& spec) const {
    bool negative = false;
    std::string body;
    if (const int64_t* integer = std::get_if<int64_t>(&value)) {
      if (spec.type == 0 || spec.type == 'd') {
        if (spec.precision >= 0) fail("precision not allowed in integer format specifier");
        negative = *integer < 0;
        uint64_t magnitude =
            negative ? 0 - static_cast<uint64_t>(*integer) : static_cast<uint64_t>(*integer);
        body = std::to_string(magnitude);
        return pad(negative, body, spec);
      }
      return format_float(static_cast<double>(*integer), spec);
    }
    double number = std::get<double>(value);
    if (spec.type == 'd') fail("unknown format code 'd' for a float value");
    return format_float(number, spec);
  }

  std::string format_float(double value, const Spec& spec) const {
    const std::string types = "fFeEgG%";
    if (spec.type != 0 && types.find(spec.type) == std::string::npos) {
      fail("format code '" + std::string(1, spec.type) + "' is not supported");
    }
    bool negative = std::signbit(value) && !std::isnan(value);
    double magnitude = std::fabs(value);
    bool upper = spec.type == 'F' || spec.type == 'E' || spec.type == 'G';
    std::string body;
    if (!std::isfinite(magnitude)) {
      body = std::isnan(magnitude) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
      if (spec.type == '%') body += "%";
    } else if (spec.type == 0 && spec.precision < 0) {
      body = python_repr(magnitude);
    } else if (spec.type == 0) {
      body = general_with_point(magnitude, std::max(spec.precision, 1));
    } else if (spec.type == '%') {
      body = printf_format("%.*f", spec.precision < 0 ? 6 : spec.precision, magnitude * 100) + "%";
    } else {
      const char conversion[] = {'%', '.', '*', spec.type, '\0'};
      body = printf_format(conversion, spec.precision < 0 ? 6 : spec.precision, magnitude);
    }
    return pad(negative, body, spec);
  }

  std::string pad(bool negative, const std::string& body, const Spec& spec) const {
    std::string sign = negative ? "-" : spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "";
    size_t length = sign.size() + body.size();
    if (spec.width <= 0 || static_cast<size_t>(spec.width) <= length) return sign + body;
    size_t padding = static_cast<size_t>(spec.width) - length;
    std::string fill(padding, spec.fill);
    switch (spec.align) {
      case '<':
        return sign + body + fill;
      case '^':
        return std::string(padding / 2, spec.fill) + sign + body +
               std::string(padding - padding / 2, spec.fill);
      case '=':
        return sign + fill + body;
      default:
        return fill + sign + body;
    }
  }

  std::string run(const TemplateLookup& lookup) const {
    std::string result;
    for (size_t i = 0; i < pattern_.size(); ++i) {
      char c = pattern_[i];
      if (c == '}') {
        if (i + 1 < pattern_.size() && pattern_[i + 1] == '}') {
          result += '}';
          ++i;
          continue;
        }
        fail("single '}' encountered");
      }
      if (c != '{') {
        result += c;
        continue;
      }
      if (i + 1 < pattern_.size() && pattern_[i + 1] == '{') {
        result += '{';
        ++i;
        continue;
      }
      size_t close = pattern_.find_first_of("{}", i + 1);
      if (close == std::string_view::npos || pattern_[close] != '}') {
        fail(close == std::string_view::npos ? "single '{' encountered"
                                             : "nested fields are not supported");
      }
      std::string_view field = pattern_.substr(i + 1, close - i - 1);
      size_t colon = field.find(':');
      std::string_view name = field.substr(0, colon);
      if (name.empty()) fail("positional fields ('{}') are not supported; name a value");
      if (name.find_first_of("!.[") != std::string_view::npos) {
        fail("conversions, attributes and indexes ('" + std::string(name) + "') are not supported");
      }
      std::optional<TemplateValue> value = lookup(name);
      if (!value) fail("no value named '" + std::string(name) + "' (KeyError)");
      Spec spec = colon == std::string_view::npos ? Spec{} : parse_spec(field.substr(colon + 1));
      result += format(*value, spec);
      i = close;
    }
    return result;
  }

 private:
  int read_number(std::string_view text, size_t& at) const {
    int number = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      number = number * 10 + (text[at++] - '0');
      if (number > 1000) fail("width or precision above 1000");
    }
    return number;
  }

  static std::string printf_format(const char* conversion, int precision, double value) {
    // Widths and precisions are capped at 1000 and doubles have at most 309 integer
    // digits, so the second attempt always fits.
    std::string text(64, '\0');
    int size = std::snprintf(text.data(), text.size(), conversion, precision, value);
    if (size >= static_cast<int>(text.size())) {
      text.resize(static_cast<size_t>(size) + 1);
      size = std::snprintf(text.data(), text.size(), conversion, precision, value);
    }
    text.resize(static_cast<size_t>(std::max(size, 0)));
    return text;
  }

  // Python's float format with a precision and no type: like 'g', but scientific from an
  // exponent of precision - 1 on, and fixed notation keeps one digit after the point.
  static std::string general_with_point(double magnitude, int precision) {
    std::string scientific = printf_format("%.*e", precision - 1, magnitude);
    size_t e = scientific.find('e');
    int exponent = std::atoi(scientific.c_str() + e + 1);
    if (exponent >= -4 && exponent < precision - 1) {
      std::string fixed = printf_format("%.*f", precision - 1 - exponent, magnitude);
      if (fixed.find('.') == std::string::npos) return fixed + ".0";
      while (fixed.back() == '0' && fixed[fixed.size() - 2] != '.') fixed.pop_back();
      return fixed;
    }
    std::string mantissa = scientific.substr(0, e);
    if (mantissa.find('.') != std::string::npos) {
      while (mantissa.back() == '0') mantissa.pop_back();
      if (mantissa.back() == '.') mantissa.pop_back();
    }
    return mantissa + scientific.substr(e);
  }

  std::string_view pattern_;
};

}  // namespace

std::string format_filepath(std::string_view pattern, const TemplateLookup& lookup) {
  return Formatter(pattern).run(lookup);
}

}  // namespace trainyard::keras::saving
