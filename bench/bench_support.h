// What the benchmark programs share: their command line (CLI11), the median they report,
// and how a failure reaches the shell.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"

namespace trainyard::bench {

// The median of `values` (benchmarks report the median pass, the first one left out).
inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Parses argv into `app`'s options. --help prints the usage and exits 0; a bad option or
// value prints CLI11's message naming it and exits 2, as the comparison scripts expect.
inline void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
}

// An option whose value must be a whole number of at least `least`.
inline CLI::Validator at_least(long long least) {
  return CLI::Validator(
      [least](std::string& input) -> std::string {
        try {
          size_t used = 0;
          if (std::stoll(input, &used) >= least && used == input.size()) return "";
        } catch (const std::exception&) {
        }
        return "must be a whole number >= " + std::to_string(least) + ", got " + input;
      },
      ">=" + std::to_string(least));
}

// A usage error found after parsing (a combination CLI11 cannot check): message, exit 2.
[[noreturn]] inline void usage_error(const CLI::App& app, const std::string& message) {
  std::cerr << app.get_name() << ": " << message << "\nRun with --help for more information.\n";
  std::exit(2);
}

// Runs the benchmark; a trainyard error becomes "name: message" on stderr and exit status 1.
template <typename Run>
int run_reporting_errors(const CLI::App& app, Run&& run) {
  try {
    return run();
  } catch (const Error& error) {
    std::cerr << app.get_name() << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace trainyard::bench
