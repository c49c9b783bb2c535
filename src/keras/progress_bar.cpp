#include "keras/progress_bar.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string_view>

#include "core/error.h"

namespace trainyard::keras {
namespace {

// The bar's cell, U+2501 BOX DRAWINGS HEAVY HORIZONTAL, in UTF-8.
constexpr const char* kBarCell = "\xe2\x94\x81";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kWhite = "\x1b[37m";
constexpr const char* kReset = "\x1b[0m";
// Characters of escape codes inside the line, which Keras leaves out of its width: bold
// on/off around a field is 4 + 4, a colour on/off around the bar is 5 + 4.
constexpr int64_t kBoldCodesLength = 8;
constexpr int64_t kColourCodesLength = 9;

// Joins pieces into one string (and keeps clear of GCC 12's false -Wrestrict alarm on
// chains of `"literal" + std::string`).
std::string concat(std::initializer_list<std::string_view> pieces) {
  std::string text;
  for (std::string_view piece : pieces) text += piece;
  return text;
}

std::string format_double(const char* format, double value) {
  const int length = std::snprintf(nullptr, 0, format, value);
  std::string text(static_cast<size_t>(length) + 1, '\0');
  std::snprintf(text.data(), text.size(), format, value);
  text.resize(static_cast<size_t>(length));
  return text;
}

// Python's len() of a UTF-8 string: the count of code points, not bytes.
int64_t code_points(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string repeat(const char* piece, int64_t times) {
  std::string text;
  for (int64_t i = 0; i < times; ++i) text += piece;
  return text;
}

// Python's divmod for floats (floor division and a remainder with the divisor's sign), as
// the ETA's "%d:%02d" % (eta // 60, eta % 60) computes it.
std::pair<double, double> python_divmod(double x, double y) {
  double remainder = std::fmod(x, y);
  double quotient = (x - remainder) / y;
  if (remainder != 0.0) {
    if ((y < 0) != (remainder < 0)) {
      remainder += y;
      quotient -= 1.0;
    }
  } else {
    remainder = std::copysign(0.0, y);
  }
  double floor_quotient;
  if (quotient != 0.0) {
    floor_quotient = std::floor(quotient);
    if (quotient - floor_quotient > 0.5) floor_quotient += 1.0;
  } else {
    floor_quotient = std::copysign(0.0, x / y);
  }
  return {floor_quotient, remainder};
}

// Python's "%{digits}d/%d" % (current, target), with digits = int(math.log10(target)) + 1;
// std::log10 is the same C function Python calls, so large targets round the same way.
std::string step_counter(int64_t current, int64_t target) {
  const int digits = static_cast<int>(std::log10(static_cast<double>(target))) + 1;
  std::string current_text = std::to_string(current);
  if (static_cast<int>(current_text.size()) < digits) {
    current_text.insert(0, static_cast<size_t>(digits) - current_text.size(), ' ');
  }
  return concat({current_text, "/", std::to_string(target)});
}

// The metric value as the verbose-1 line shows it.
std::string format_value(double value) {
  return concat({" ", std::fabs(value) > 1e-3 ? detail::python_fixed(value, 4)
                                              : detail::python_exponent(value, 4)});
}

}  // namespace

namespace detail {

std::string python_fixed(double value, int precision) {
  // glibc's printf rounds the exact binary value correctly, ties to even, like Python; only
  // NaN differs ("-nan" for a negative NaN, where Python prints "nan").
  if (std::isnan(value)) return "nan";
  return format_double(concat({"%.", std::to_string(precision), "f"}).c_str(), value);
}

std::string python_exponent(double value, int precision) {
  if (std::isnan(value)) return "nan";
  return format_double(concat({"%.", std::to_string(precision), "e"}).c_str(), value);
}

std::string python_percent_d(double value, int zero_padded_width) {
  if (std::isnan(value)) return "nan";
  const std::string format =
      zero_padded_width > 0 ? concat({"%0", std::to_string(zero_padded_width), ".0f"}) : "%.0f";
  // %d of a float prints int(value): truncated, with every digit of values beyond int64,
  // and never "-0" (adding +0.0 turns -0.0 into +0.0).
  return format_double(format.c_str(), std::trunc(value) + 0.0);
}

std::string format_time_per_unit(double seconds, const std::string& unit_name) {
  if (seconds >= 1 || seconds == 0) return concat({" ", python_fixed(seconds, 0), "s/", unit_name});
  if (seconds >= 1e-3) return concat({" ", python_fixed(seconds * 1000.0, 0), "ms/", unit_name});
  return concat({" ", python_fixed(seconds * 1000000.0, 0), "us/", unit_name});
}

std::string format_eta(double seconds) {
  if (seconds > 3600) {
    const double hours = python_divmod(seconds, 3600).first;
    const double minutes = python_divmod(python_divmod(seconds, 3600).second, 60).first;
    const double rest = python_divmod(seconds, 60).second;
    return concat({python_percent_d(hours), ":", python_percent_d(minutes, 2), ":",
                   python_percent_d(rest, 2)});
  }
  if (seconds > 60) {
    const auto [minutes, rest] = python_divmod(seconds, 60);
    return concat({python_percent_d(minutes), ":", python_percent_d(rest, 2)});
  }
  return concat({python_percent_d(seconds), "s"});
}

}  // namespace detail

Logs sort_logs(Logs logs) {
  std::stable_sort(logs.begin(), logs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Logs unique;
  for (auto& entry : logs) {
    if (!unique.empty() && unique.back().first == entry.first) {
      unique.back().second = entry.second;  // the later value wins, as in a dict
    } else {
      unique.push_back(std::move(entry));
    }
  }
  return unique;
}

Clock steady_clock_seconds() {
  return [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

namespace {

std::optional<int64_t> checked_target(std::optional<int64_t> target) {
  if (target && *target < 0) {
    throw ValueError("ProgressBar: target must be >= 0 or unknown, got " + std::to_string(*target));
  }
  return target;
}

int checked_verbose(int verbose) {
  if (verbose < 0 || verbose > 2) {
    throw ValueError("ProgressBar: verbose must be 0, 1 or 2, got " + std::to_string(verbose));
  }
  return verbose;
}

int checked_width(int width) {
  if (width < 1) throw ValueError("ProgressBar: width must be >= 1, got " + std::to_string(width));
  return width;
}

double checked_interval(double interval) {
  if (!std::isfinite(interval) || interval < 0) {
    throw ValueError("ProgressBar: interval must be a finite number of seconds >= 0, got " +
                     detail::python_fixed(interval, 6));
  }
  return interval;
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, ProgressBarOptions options)
    : out_(out),
      target_(checked_target(options.target)),
      verbose_(checked_verbose(options.verbose)),
      interactive_(options.interactive),
      width_(checked_width(options.width)),
      interval_(checked_interval(options.interval)),
      unit_name_(std::move(options.unit_name)),
      clock_(options.clock ? std::move(options.clock) : steady_clock_seconds()),
      start_(clock_()) {}

void ProgressBar::set_target(std::optional<int64_t> target) {
  target_ = checked_target(target);
}

void ProgressBar::add(int64_t steps, const Logs& logs) {
  update(seen_so_far_ + steps, logs);
}

void ProgressBar::update(int64_t current, const Logs& logs, std::optional<bool> finalize) {
  if (current < 0) {
    throw ValueError("ProgressBar::update: current step must be >= 0, got " +
                     std::to_string(current));
  }
  const bool final_update = finalize.value_or(target_.has_value() && current >= *target_);
  for (auto& [name, value] : sort_logs(logs)) {
    auto known = std::find_if(values_.begin(), values_.end(),
                              [&name = name](const auto& entry) { return entry.first == name; });
    if (known == values_.end()) {
      values_.emplace_back(name, value);
    } else {
      known->second = value;
    }
  }
  seen_so_far_ = current;

  const double now = clock_();
  const double time_per_unit = estimate_step_duration(current, now);
  if (verbose_ == 1) {
    if (last_update_ && now - *last_update_ < interval_ && !final_update) return;
    draw_verbose1(current, final_update, now, time_per_unit);
  } else if (verbose_ == 2 && final_update) {
    draw_verbose2(current, now, time_per_unit);
  }
  last_update_ = now;
}

// Seconds per step, leaving out the first step (which pays for warm-up) once there are
// later ones: (now - time after step 1) / (current - 1). 0 before any step has finished.
double ProgressBar::estimate_step_duration(int64_t current, double now) {
  if (current == 0) return 0;
  double time_per_unit;
  if (time_after_first_step_ && current > 1) {
    time_per_unit = (now - *time_after_first_step_) / static_cast<double>(current - 1);
  } else {
    time_per_unit = (now - start_) / static_cast<double>(current);
  }
  if (current == 1) time_after_first_step_ = now;
  return time_per_unit;
}

void ProgressBar::draw_verbose1(int64_t current, bool finalize, double now, double time_per_unit) {
  std::string message =
      interactive_ ? std::string(static_cast<size_t>(prev_total_width_), '\b') : "";
  message += interactive_ ? "\r" : "\n";
  const bool known_target = target_.has_value() && *target_ > 0;
  int64_t escape_codes_length = 0;

  std::string bar;
  if (known_target) {
    bar = concat({kBold, step_counter(current, *target_), kReset, " "});
    escape_codes_length += kBoldCodesLength;
    const double progress = static_cast<double>(current) / static_cast<double>(*target_);
    const auto done_cells = static_cast<int64_t>(width_ * progress);
    if (done_cells > 0) {
      bar += concat({kGreen, repeat(kBarCell, done_cells), kReset});
      escape_codes_length += kColourCodesLength;
    }
    // Keras writes the white part even when it is empty.
    bar += concat({kWhite, repeat(kBarCell, std::max<int64_t>(0, width_ - done_cells)), kReset});
    escape_codes_length += kColourCodesLength;
  } else {
    const std::string count = std::to_string(current);
    bar = std::string(count.size() < 7 ? 7 - count.size() : 0, ' ');  // "%7d/Unknown"
    bar += concat({count, "/Unknown"});
  }
  message += bar;

  std::string info;
  if (known_target && !finalize) {
    const double eta = time_per_unit * static_cast<double>(*target_ - current);
    info = concat({" ", kBold, detail::format_eta(eta), kReset});
  } else {
    info = concat({" ", kBold, detail::python_fixed(now - start_, 0), "s", kReset});
  }
  escape_codes_length += kBoldCodesLength;
  info += detail::format_time_per_unit(time_per_unit, unit_name_);
  for (const auto& [name, value] : values_) info += concat({" - ", name, ":", format_value(value)});
  message += info;

  // Pad with spaces over what is left of a longer previous line.
  const int64_t total_width = code_points(bar) + code_points(info) - escape_codes_length;
  if (prev_total_width_ > total_width) {
    message += std::string(static_cast<size_t>(prev_total_width_ - total_width), ' ');
  }
  if (finalize) message += "\n";
  out_ << message;
  out_.flush();
  prev_total_width_ = total_width;
}

void ProgressBar::draw_verbose2(int64_t current, double now, double time_per_unit) {
  if (!target_ || *target_ <= 0) return;
  std::string info =
      concat({step_counter(current, *target_), " - ", detail::python_fixed(now - start_, 0), "s -",
              detail::format_time_per_unit(time_per_unit, unit_name_)});
  for (const auto& [name, value] : values_) {
    // Keras tests the signed value here (not its magnitude as at verbose 1), so negative
    // values print in e-notation.
    info +=
        concat({" - ", name, ": ",
                value > 1e-3 ? detail::python_fixed(value, 4) : detail::python_exponent(value, 4)});
  }
  out_ << info << "\n";
  out_.flush();
}

void write_epoch_header(std::ostream& out, int epoch, int epochs, int verbose) {
  if (epoch < 0) {
    throw ValueError("write_epoch_header: epoch is 0-based and must be >= 0, got " +
                     std::to_string(epoch));
  }
  if (verbose == 0 || epochs <= 1) return;
  out << "Epoch " << epoch + 1 << "/" << epochs << "\n";
  out.flush();
}

}  // namespace trainyard::keras
