// MetricExtractor: AlgorithmSpecification.MetricDefinitions applied to a job's log lines as
// they come, keeping each metric's last value for FinalMetricDataList.
//
// Each definition's regex is searched in every line (std::regex, ECMAScript, first match in
// the line); the value is its first capture group parsed as a number ("0.25", "1e-3", "+2",
// "nan", "inf"; surrounding spaces allowed, anything else in the group is not a number).
// Regexes written for SageMaker (`loss: ([0-9\\.]+)`, `val_accuracy: ([0-9.e-]+)`) work as
// written. The cost of every search is capped (see bounded_regex.h): only the first 2048
// bytes of a line are searched, and a search that takes too many steps is abandoned.
//
// Problems are reported, never thrown, each at most once per metric: an invalid regex, one
// without a capture group, a capture that is not a number, lines on which the regex was too
// costly, and a regex given up on after max_costly_lines such lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/runners/bounded_regex.h"
#include "jobs/store/job_record.h"

namespace trainyard::jobs {

struct MetricExtractorOptions {
  BoundedRegexLimits limits;  // per search: 2048 bytes of the line, 2M steps, 4 MiB of stack
  // A metric whose regex was too costly on this many lines is searched no more (default 10).
  int max_costly_lines = 10;
};

// Not thread-safe. REQUIRES: the calling thread has at least 1 MiB of stack left (searches
// are abandoned, not crashed, when the engine would come near the end).
class MetricExtractor {
 public:
  // Compiles every definition's regex. Throws ValueError if there are more than
  // kMaxFinalMetrics (40) definitions; a bad regex is a problem, not an exception.
  explicit MetricExtractor(const std::vector<MetricDefinition>& definitions,
                           MetricExtractorOptions options = {});
  MetricExtractor(MetricExtractor&&) noexcept;
  MetricExtractor& operator=(MetricExtractor&&) noexcept;
  ~MetricExtractor();

  // Searches `line` (without its line break) with every metric's regex; a match with a number
  // makes it that metric's value, seen at `timestamp` (Unix epoch seconds).
  void feed(std::string_view line, double timestamp);

  // FinalMetricDataList: each metric that has a value, with its last value and when it was
  // seen, in the order of the definitions (definitions sharing a name give one entry).
  std::vector<FinalMetric> final_metrics() const;

  // Problems found since the last call, oldest first, e.g.
  // "metric 'loss': regex 'loss: ([0-9' is not a valid ECMAScript regex: ...".
  std::vector<std::string> take_problems();

 private:
  struct Metric;
  void report(Metric& metric, int kind, const std::string& detail);

  std::vector<Metric> metrics_;
  std::vector<std::optional<FinalMetric>> values_;  // by Metric::slot
  std::vector<std::string> problems_;
  MetricExtractorOptions options_;
};

// `text` as a metric value: a decimal or exponent number, "nan" or "inf" (any case), with
// optional surrounding whitespace and a leading '+' or '-'. nullopt for anything else.
std::optional<double> parse_metric_value(std::string_view text);

}  // namespace trainyard::jobs
