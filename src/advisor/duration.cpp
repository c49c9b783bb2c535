#include "advisor/duration.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"

namespace trainyard::advisor {
namespace {

[[noreturn]] void bad_duration(std::string_view text, const std::string& why) {
  throw ValueError("bad duration '" + std::string(text) + "' (" + why +
                   "); expected forms like 2h, 90m, 1h30m or 45s");
}

double unit_seconds(char unit) {
  switch (unit) {
    case 'h':
      return 3600;
    case 'm':
      return 60;
    default:
      return 1;
  }
}

}  // namespace

double parse_duration(std::string_view text) {
  if (text.empty()) bad_duration(text, "empty");
  const std::string_view units = "hms";
  size_t next_unit = 0;  // units must come in the order h, m, s
  double seconds = 0;
  size_t at = 0;
  while (at < text.size()) {
    const size_t number_start = at;
    while (at < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[at])) || text[at] == '.')) {
      ++at;
    }
    if (at == number_start) bad_duration(text, "a number must come before each unit");
    if (at == text.size()) bad_duration(text, "a number has no unit");
    const size_t unit = units.find(text[at], next_unit);
    if (unit == std::string_view::npos) {
      bad_duration(text, "unit '" + std::string(1, text[at]) + "' is unknown or out of order");
    }
    const std::string number(text.substr(number_start, at - number_start));
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(number, &used);
    } catch (const std::exception&) {
      bad_duration(text, "'" + number + "' is not a number");
    }
    if (used != number.size()) bad_duration(text, "'" + number + "' is not a number");
    seconds += value * unit_seconds(units[unit]);
    next_unit = unit + 1;
    ++at;
  }
  if (seconds <= 0) bad_duration(text, "it must be longer than zero");
  return seconds;
}

std::string format_duration(double seconds) {
  char text[64];
  if (seconds < 1e-3) {
    std::snprintf(text, sizeof text, "%.2gus", seconds * 1e6);
    return text;
  }
  if (seconds < 1) {
    std::snprintf(text, sizeof text, "%.3gms", seconds * 1e3);
    return text;
  }
  if (seconds < 10) {
    std::snprintf(text, sizeof text, "%.2gs", seconds);
    return text;
  }
  const auto whole = static_cast<long long>(std::llround(seconds));
  const long long hours = whole / 3600;
  const long long minutes = whole % 3600 / 60;
  const long long rest = whole % 60;
  if (hours > 0) {
    std::snprintf(text, sizeof text, "%lldh %02lldm", hours, minutes);
  } else if (minutes > 0) {
    std::snprintf(text, sizeof text, "%lldm %02llds", minutes, rest);
  } else {
    std::snprintf(text, sizeof text, "%llds", rest);
  }
  return text;
}

}  // namespace trainyard::advisor
