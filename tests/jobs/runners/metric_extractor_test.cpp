#include "jobs/runners/metric_extractor.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cmath>

#include "core/error.h"
#include "jobs/runners/log_follower.h"
#include "runner_test_util.h"

namespace trainyard::jobs {
namespace {

using Problems = std::vector<std::string>;
using Definitions = std::vector<MetricDefinition>;

// What Keras 3's progress bar writes for one epoch of `steps` steps (colours, backspaces and
// all, as tests/keras/progress_bar_test.cpp pins them), ending with the validation metrics.
std::string keras_epoch(int epoch, const std::vector<std::pair<double, double>>& steps,
                        double val_accuracy, double val_loss) {
  const std::string bold = "\x1b[1m", reset = "\x1b[0m", green = "\x1b[32m";
  std::string text = "Epoch " + std::to_string(epoch) + "/2\n";
  char numbers[200];
  for (size_t i = 0; i < steps.size(); ++i) {
    const bool last = i + 1 == steps.size();
    std::snprintf(numbers, sizeof numbers, " 1ms/step - accuracy: %.4f - loss: %.4f",
                  steps[i].first, steps[i].second);
    text += std::string(i == 0 ? 0 : 60, '\b') + "\r" + bold + std::to_string(i + 1) + "/" +
            std::to_string(steps.size()) + reset + " " + green + "━━━━━━━━━━" + reset + numbers;
    if (last) {
      std::snprintf(numbers, sizeof numbers,
                    " - learning_rate: 1.0000e-03 - val_accuracy: %.4f - val_loss: %.4f\n",
                    val_accuracy, val_loss);
      text += numbers;
    }
  }
  return text;
}

std::vector<MetricDefinition> keras_definitions() {
  return {{.name = "train:loss", .regex = "loss: ([0-9\\.]+)"},
          {.name = "train:accuracy", .regex = "accuracy: ([0-9\\.]+)"},
          {.name = "validation:accuracy", .regex = "val_accuracy: ([0-9.e-]+)"},
          {.name = "validation:loss", .regex = "val_loss: ([0-9.e-]+)"},
          {.name = "learning_rate", .regex = "learning_rate: ([0-9.e-]+)"}};
}

TEST(MetricExtractorTest, FollowsKerasProgressBarsInAGrowingLog) {
  TempDir dir;
  const std::filesystem::path log = dir.path() / "log";
  LogFollower follower(log);
  MetricExtractor extractor(keras_definitions());
  const auto feed_new_lines = [&](double now) {
    for (const std::string& line : follower.read().lines) extractor.feed(line, now);
  };

  write_text(log, keras_epoch(1, {{0.25, 2.0}, {0.5, 1.25}, {0.625, 0.875}}, 0.75, 0.5));
  feed_new_lines(100.0);
  std::vector<FinalMetric> metrics = extractor.final_metrics();
  ASSERT_EQ(metrics.size(), 5u);
  EXPECT_EQ(metrics[0], (FinalMetric{.name = "train:loss", .value = 0.875, .timestamp = 100.0}));
  EXPECT_EQ(metrics[1],
            (FinalMetric{.name = "train:accuracy", .value = 0.625, .timestamp = 100.0}));
  EXPECT_EQ(metrics[2],
            (FinalMetric{.name = "validation:accuracy", .value = 0.75, .timestamp = 100.0}));
  EXPECT_EQ(metrics[3], (FinalMetric{.name = "validation:loss", .value = 0.5, .timestamp = 100.0}));
  EXPECT_EQ(metrics[4], (FinalMetric{.name = "learning_rate", .value = 0.001, .timestamp = 100.0}));

  // Half of the next epoch: the bar's latest redraw is not yet ended by '\r' or '\n'.
  const std::string epoch2 = keras_epoch(2, {{0.75, 0.5}, {0.8125, 0.25}}, 0.875, 0.375);
  const size_t cut = epoch2.find("0.8125");
  append_text(log, epoch2.substr(0, cut));
  feed_new_lines(200.0);
  metrics = extractor.final_metrics();
  EXPECT_EQ(metrics[0], (FinalMetric{.name = "train:loss", .value = 0.5, .timestamp = 200.0}));
  EXPECT_EQ(metrics[2].timestamp, 100.0);  // no validation yet in epoch 2

  append_text(log, epoch2.substr(cut));
  feed_new_lines(300.0);
  metrics = extractor.final_metrics();
  EXPECT_EQ(metrics[0], (FinalMetric{.name = "train:loss", .value = 0.25, .timestamp = 300.0}));
  EXPECT_EQ(metrics[1].value, 0.8125);
  EXPECT_EQ(metrics[2].value, 0.875);
  EXPECT_EQ(metrics[3].value, 0.375);
  EXPECT_EQ(extractor.take_problems(), Problems{});
}

TEST(MetricExtractorTest, NothingSeenGivesAnEmptyList) {
  MetricExtractor extractor(keras_definitions());
  extractor.feed("Epoch 1/2", 1.0);
  EXPECT_TRUE(extractor.final_metrics().empty());
  EXPECT_TRUE(MetricExtractor(Definitions{}).final_metrics().empty());
}

TEST(MetricExtractorTest, FinalListFollowsDefinitionOrderNotMatchOrder) {
  MetricExtractor extractor(
      Definitions{{.name = "b", .regex = "b=([0-9]+)"}, {.name = "a", .regex = "a=([0-9]+)"}});
  extractor.feed("a=1", 1.0);
  extractor.feed("b=2", 2.0);
  const std::vector<FinalMetric> metrics = extractor.final_metrics();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0], (FinalMetric{.name = "b", .value = 2, .timestamp = 2.0}));
  EXPECT_EQ(metrics[1], (FinalMetric{.name = "a", .value = 1, .timestamp = 1.0}));
}

TEST(MetricExtractorTest, DefinitionsSharingANameGiveOneEntry) {
  MetricExtractor extractor(Definitions{{.name = "loss", .regex = "train_loss=([0-9.]+)"},
                                        {.name = "other", .regex = "other=([0-9.]+)"},
                                        {.name = "loss", .regex = "loss is ([0-9.]+)"}});
  extractor.feed("train_loss=0.5", 1.0);
  extractor.feed("loss is 0.25", 2.0);
  const std::vector<FinalMetric> metrics = extractor.final_metrics();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0], (FinalMetric{.name = "loss", .value = 0.25, .timestamp = 2.0}));
}

TEST(MetricExtractorTest, LazyQuantifiersBehaveAsInEcmascript) {
  // A SageMaker-style regex with a lazy group: the shortest capture, not the longest.
  MetricExtractor extractor(Definitions{{.name = "error", .regex = "Train_error=(.*?);"}});
  extractor.feed("#quality_metric: Train_error=0.125; Test_error=0.5;", 1.0);
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_EQ(extractor.final_metrics()[0].value, 0.125);
}

TEST(MetricExtractorTest, InvalidRegexIsReportedOnceAndOthersStillWork) {
  MetricExtractor extractor(Definitions{{.name = "loss", .regex = "loss: ([0-9"},
                                        {.name = "accuracy", .regex = "accuracy: ([0-9.]+)"}});
  Problems problems = extractor.take_problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].starts_with(
      "metric 'loss': regex 'loss: ([0-9' cannot be used: not a valid ECMAScript regex: "))
      << problems[0];
  for (int i = 0; i < 3; ++i) extractor.feed("loss: 0.5 - accuracy: 0.75", i);
  EXPECT_EQ(extractor.take_problems(), Problems{});
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_EQ(extractor.final_metrics()[0].name, "accuracy");
}

TEST(MetricExtractorTest, RegexWithoutCaptureGroupIsReported) {
  MetricExtractor extractor(Definitions{{.name = "loss", .regex = "loss: [0-9.]+"}});
  EXPECT_EQ(extractor.take_problems(),
            Problems{"metric 'loss': regex 'loss: [0-9.]+' has no capture group for the value"});
  extractor.feed("loss: 0.5", 1.0);
  EXPECT_TRUE(extractor.final_metrics().empty());
}

TEST(MetricExtractorTest, CaptureThatIsNotANumberIsSkippedAndReportedOnce) {
  MetricExtractor extractor(Definitions{{.name = "loss", .regex = "loss: (\\S+)"}});
  extractor.feed("loss: 0.5", 1.0);
  extractor.feed("loss: n/a", 2.0);
  extractor.feed("loss: none", 3.0);
  EXPECT_EQ(extractor.take_problems(),
            Problems{"metric 'loss': regex 'loss: (\\S+)' captured 'n/a', which is not a number"});
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_EQ(extractor.final_metrics()[0],
            (FinalMetric{.name = "loss", .value = 0.5, .timestamp = 1.0}));
}

TEST(MetricExtractorTest, NanLossIsKept) {
  MetricExtractor extractor(Definitions{{.name = "loss", .regex = "loss: (\\S+)"}});
  extractor.feed("loss: nan", 1.0);
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_TRUE(std::isnan(extractor.final_metrics()[0].value));
}

TEST(MetricExtractorTest, CatastrophicBacktrackingIsAbandonedThenGivenUp) {
  // `(a+)+b` on a run of a's takes time exponential in its length in a backtracking engine.
  MetricExtractor extractor(Definitions{{.name = "evil", .regex = "(a+)+b"},
                                        {.name = "loss", .regex = "loss: ([0-9.]+)"}},
                            {.max_costly_lines = 3});
  const std::string line = "loss: 0.5 " + std::string(1000, 'a');
  for (int i = 0; i < 5; ++i) extractor.feed(line, i);
  EXPECT_EQ(
      extractor.take_problems(),
      (Problems{"metric 'evil': regex '(a+)+b' is too costly on some lines, which are skipped",
                "metric 'evil': regex '(a+)+b' was too costly on 3 lines and is no longer "
                "searched"}));
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_EQ(extractor.final_metrics()[0],
            (FinalMetric{.name = "loss", .value = 0.5, .timestamp = 4}));
}

TEST(MetricExtractorTest, OnlyTheStartOfAVeryLongLineIsSearched) {
  MetricExtractor extractor(Definitions{{.name = "early", .regex = "early=([0-9]+)"},
                                        {.name = "late", .regex = "late=([0-9]+)"}});
  const std::string line = "early=1 " + std::string(1 << 20, ' ') + "late=2";
  extractor.feed(line, 1.0);
  ASSERT_EQ(extractor.final_metrics().size(), 1u);
  EXPECT_EQ(extractor.final_metrics()[0].name, "early");
}

TEST(MetricExtractorTest, MoreThanFortyDefinitionsAreRefused) {
  std::vector<MetricDefinition> definitions(41, {.name = "m", .regex = "m=([0-9]+)"});
  EXPECT_THROW(MetricExtractor{definitions}, ValueError);
  definitions.pop_back();
  EXPECT_NO_THROW(MetricExtractor{definitions});
}

TEST(MetricValueTest, ParsesWhatPythonFloatWould) {
  EXPECT_EQ(parse_metric_value("0.25"), 0.25);
  EXPECT_EQ(parse_metric_value(" 1e-3 "), 0.001);
  EXPECT_EQ(parse_metric_value("1.0000e-03"), 0.001);
  EXPECT_EQ(parse_metric_value("+2"), 2.0);
  EXPECT_EQ(parse_metric_value("-3.5"), -3.5);
  EXPECT_EQ(parse_metric_value(".5"), 0.5);
  EXPECT_EQ(parse_metric_value("5."), 5.0);
  EXPECT_TRUE(std::isinf(*parse_metric_value("inf")));
  EXPECT_TRUE(std::isinf(*parse_metric_value("1e999")));
  EXPECT_TRUE(std::isnan(*parse_metric_value("NaN")));
  for (const char* bad : {"", " ", "abc", "1.2.3", "+-1", "--1", "0.5;", "1,5", "0x10"}) {
    EXPECT_EQ(parse_metric_value(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace trainyard::jobs
