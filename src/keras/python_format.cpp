#include "keras/python_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace trainyard::keras {

std::string python_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip digits in scientific form: "d.ddde±x".
  char buffer[64];
  auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  size_t e = scientific.find('e');
  std::string mantissa = scientific.substr(0, e);
  int exponent = std::atoi(scientific.c_str() + e + 1);
  bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  // Built with append(): GCC 12 misreads some operator+ chains as overlapping copies.
  std::string text = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    text.append(digits, 0, 1);
    if (digits.size() > 1) text.append(".").append(digits, 1, std::string::npos);
    text.append(exponent < 0 ? "e-" : "e+");
    if (std::abs(exponent) < 10) text.append("0");
    text.append(std::to_string(std::abs(exponent)));
  } else if (exponent < 0) {
    text.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
  } else {
    size_t integer_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= integer_digits) {
      text.append(digits).append(integer_digits - digits.size(), '0').append(".0");
    } else {
      text.append(digits, 0, integer_digits)
          .append(".")
          .append(digits, integer_digits, std::string::npos);
    }
  }
  return text;
}

}  // namespace trainyard::keras
