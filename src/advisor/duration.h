// Durations as the command line writes them: "2h", "90m", "1h30m", "45s".
#pragma once

#include <string>
#include <string_view>

namespace trainyard::advisor {

// Seconds in `text`: one or more <number><unit> parts, units h, m and s, each unit at most
// once and in that order. Throws ValueError naming the text and the accepted forms.
double parse_duration(std::string_view text);

// "1h 30m", "12m 05s", "42s", "2.5s", "250ms", "4us": for tables and reasoning.
std::string format_duration(double seconds);

}  // namespace trainyard::advisor
