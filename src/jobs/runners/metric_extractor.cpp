#include "jobs/runners/metric_extractor.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

// Kinds of problem, each reported at most once per metric.
enum ProblemKind { kInvalidRegex, kNoCaptureGroup, kNotANumber, kTooCostly, kGivenUp, kNumKinds };

// Regexes and captures quoted in messages are cut to this many bytes.
constexpr size_t kQuoteBytes = 120;

std::string quoted(std::string_view text) {
  std::string result = "'";
  result.append(text.substr(0, kQuoteBytes));
  if (text.size() > kQuoteBytes) result.append("...");
  result.push_back('\'');
  return result;
}

}  // namespace

struct MetricExtractor::Metric {
  std::string name;
  std::string pattern;
  std::unique_ptr<BoundedRegex> regex;  // null when the definition cannot be used
  size_t slot = 0;                      // index into the per-name values, in definition order
  int costly_lines = 0;
  bool reported[kNumKinds] = {};
};

MetricExtractor::MetricExtractor(const std::vector<MetricDefinition>& definitions,
                                 MetricExtractorOptions options)
    : options_(options) {
  if (definitions.size() > kMaxFinalMetrics) {
    throw ValueError("MetricDefinitions: at most " + std::to_string(kMaxFinalMetrics) +
                     " metrics, got " + std::to_string(definitions.size()));
  }
  metrics_.reserve(definitions.size());
  for (const MetricDefinition& definition : definitions) {
    Metric& metric = metrics_.emplace_back();
    metric.name = definition.name;
    metric.pattern = definition.regex;
    metric.slot = metrics_.size() - 1;
    for (size_t i = 0; i + 1 < metrics_.size(); ++i) {
      if (metrics_[i].name == metric.name) {
        metric.slot = metrics_[i].slot;
        break;
      }
    }
    try {
      metric.regex = std::make_unique<BoundedRegex>(definition.regex, options_.limits);
    } catch (const ValueError& error) {
      report(metric, kInvalidRegex, std::string("cannot be used: ") + error.what());
      continue;
    }
    if (metric.regex->capture_groups() == 0) {
      report(metric, kNoCaptureGroup, "has no capture group for the value");
      metric.regex.reset();
    }
  }
  values_.resize(metrics_.size());
}

MetricExtractor::MetricExtractor(MetricExtractor&&) noexcept = default;
MetricExtractor& MetricExtractor::operator=(MetricExtractor&&) noexcept = default;
MetricExtractor::~MetricExtractor() = default;

void MetricExtractor::report(Metric& metric, int kind, const std::string& detail) {
  if (metric.reported[kind]) return;
  metric.reported[kind] = true;
  problems_.push_back("metric '" + metric.name + "': regex " + quoted(metric.pattern) + " " +
                      detail);
}

void MetricExtractor::feed(std::string_view line, double timestamp) {
  for (Metric& metric : metrics_) {
    if (!metric.regex) continue;
    const BoundedRegex::Result result = metric.regex->search(line);
    if (result.outcome == BoundedRegex::Outcome::kTooCostly) {
      ++metric.costly_lines;
      report(metric, kTooCostly, "is too costly on some lines, which are skipped");
      if (metric.costly_lines >= options_.max_costly_lines) {
        report(metric, kGivenUp,
               "was too costly on " + std::to_string(metric.costly_lines) +
                   " lines and is no longer searched");
        metric.regex.reset();
      }
      continue;
    }
    if (result.outcome != BoundedRegex::Outcome::kMatch || !result.first_group) continue;
    const std::optional<double> value = parse_metric_value(*result.first_group);
    if (!value) {
      report(metric, kNotANumber,
             "captured " + quoted(*result.first_group) + ", which is not a number");
      continue;
    }
    values_[metric.slot] =
        FinalMetric{.name = metric.name, .value = *value, .timestamp = timestamp};
  }
}

std::vector<FinalMetric> MetricExtractor::final_metrics() const {
  std::vector<FinalMetric> metrics;
  for (const std::optional<FinalMetric>& value : values_) {
    if (value) metrics.push_back(*value);
  }
  return metrics;
}

std::vector<std::string> MetricExtractor::take_problems() {
  return std::exchange(problems_, {});
}

std::optional<double> parse_metric_value(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  const bool plus = !text.empty() && text.front() == '+';
  if (plus) text.remove_prefix(1);
  if (text.empty() || (plus && text.front() == '-')) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  // Out of range ("1e999") is still a number to the user: from_chars leaves value alone then.
  if (end != text.data() + text.size()) return std::nullopt;
  if (error == std::errc::result_out_of_range) {
    return std::strtod(std::string(text).c_str(), nullptr);
  }
  if (error != std::errc()) return std::nullopt;
  return value;
}

}  // namespace trainyard::jobs
