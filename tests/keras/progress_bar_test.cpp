// Expected strings are written by hand from Keras 3's utils/progbar.py and
// callbacks/progbar_logger.py: the clock is fake and steps land on binary-exact times, so
// every ETA, per-step time and bar length below can be worked out on paper.
#include "keras/progress_bar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace trainyard::keras {
namespace {

const std::string kB = "\x1b[1m";   // bold
const std::string kR = "\x1b[0m";   // reset
const std::string kG = "\x1b[32m";  // green
const std::string kW = "\x1b[37m";  // white

std::string cells(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) text += "━";
  return text;
}

std::string backspaces(int n) {
  return std::string(static_cast<size_t>(n), '\b');
}

// Removes ESC [ ... m colour codes, to compare with the text a terminal shows.
std::string strip_ansi(const std::string& text) {
  std::string plain;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {
      i = text.find('m', i);
      continue;
    }
    plain += text[i];
  }
  return plain;
}

struct FakeClock {
  double now = 0;
  Clock clock() {
    return [this] { return now; };
  }
};

ProgressBarOptions options(FakeClock& clock, std::optional<int64_t> target, int verbose = 1,
                           bool interactive = true) {
  return {.target = target, .verbose = verbose, .interactive = interactive, .clock = clock.clock()};
}

TEST(ProgressBarTest, FitEpochFinalLineMatchesKeras) {
  FakeClock clock{.now = 1000.0};
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 1875));

  // Step 1 after 0.125 s: ETA 0.125 * 1874 = 234.25 s -> "3:54"; unsorted logs get sorted.
  clock.now = 1000.125;
  bar.update(1, {{"loss", 2.0}, {"accuracy", 0.25}}, false);
  const std::string first = "\r" + kB + "   1/1875" + kR + " " + kW + cells(20) + kR + " " + kB +
                            "3:54" + kR + " 125ms/step - accuracy: 0.2500 - loss: 2.0000";
  EXPECT_EQ(out.str(), first);

  // Epoch end: 2.25 s elapsed -> "2s"; (2.25 - 0.125) / 1874 s = 1.13 ms -> "1ms/step".
  // 76 visible characters after 80, so 4 spaces blank the rest of the old line.
  clock.now = 1002.25;
  bar.update(1875, {{"accuracy", 0.8213}, {"loss", 0.5052}}, true);
  const std::string last = backspaces(80) + "\r" + kB + "1875/1875" + kR + " " + kG + cells(20) +
                           kR + kW + kR + " " + kB + "2s" + kR +
                           " 1ms/step - accuracy: 0.8213 - loss: 0.5052    \n";
  EXPECT_EQ(out.str(), first + last);
  EXPECT_EQ(strip_ansi(last),
            backspaces(80) +
                "\r1875/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 1ms/step - accuracy: 0.8213 - "
                "loss: 0.5052    \n");
}

TEST(ProgressBarTest, ValidationKeysFollowTrainingKeysInFirstSeenOrder) {
  FakeClock clock{.now = 1000.0};
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 1875));
  clock.now = 1000.125;
  bar.update(1, {{"accuracy", 0.25}, {"loss", 2.0}}, false);
  std::ostringstream().swap(out);
  clock.now = 1002.25;
  // "learning_rate" sorts before "loss" but was not seen before, so it goes after it.
  bar.update(1875,
             {{"val_loss", 0.3601},
              {"loss", 0.5052},
              {"learning_rate", 0.001},
              {"val_accuracy", 0.87},
              {"accuracy", 0.8213}},
             true);
  EXPECT_EQ(strip_ansi(out.str()),
            backspaces(80) +
                "\r1875/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 1ms/step - accuracy: 0.8213 - loss: 0.5052 - "
                "learning_rate: 1.0000e-03 - val_accuracy: 0.8700 - val_loss: 0.3601\n");
}

// Three updates on a 16-step target starting at clock 0 (the first update draws even then):
// step 1 at 1/64 s draws, step 2 at 3/64 s is throttled (1/32 s < 0.05 s), step 4 at 5/64 s
// draws, and the final step 16 at 6/64 s draws although only 1/64 s has passed.
void run_throttled_sequence(FakeClock& clock, ProgressBar& bar) {
  clock.now = 1.0 / 64;
  bar.update(1);
  clock.now = 3.0 / 64;
  bar.update(2);
  clock.now = 5.0 / 64;
  bar.update(4);
  clock.now = 6.0 / 64;
  bar.update(16);
}

// Line 1: ETA 15/64 s -> "0s", 15.625 ms -> "16ms/step", int(20 / 16) = 1 green cell.
const std::string kLine1 = kB + " 1/16" + kR + " " + kG + cells(1) + kR + kW + cells(19) + kR +
                           " " + kB + "0s" + kR + " 16ms/step";
// Line 2: (5/64 - 1/64) / 3 s = 20.8 ms (step 1 left out), 20 * 4 / 16 = 5 green cells.
const std::string kLine2 = kB + " 4/16" + kR + " " + kG + cells(5) + kR + kW + cells(15) + kR +
                           " " + kB + "0s" + kR + " 21ms/step";
// Line 3: (6/64 - 1/64) / 15 s = 5.2 ms; 38 visible characters, one fewer than before.
const std::string kLine3 =
    kB + "16/16" + kR + " " + kG + cells(20) + kR + kW + kR + " " + kB + "0s" + kR + " 5ms/step";

TEST(ProgressBarTest, InteractiveRedrawsInPlaceThrottledAndPadsShorterLines) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 16));
  run_throttled_sequence(clock, bar);
  EXPECT_EQ(out.str(), "\r" + kLine1 + backspaces(39) + "\r" + kLine2 + backspaces(39) + "\r" +
                           kLine3 + " \n");
}

TEST(ProgressBarTest, NonInteractiveStartsEachRedrawOnANewLine) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 16, 1, /*interactive=*/false));
  run_throttled_sequence(clock, bar);
  EXPECT_EQ(out.str(), "\n" + kLine1 + "\n" + kLine2 + "\n" + kLine3 + " \n");
}

TEST(ProgressBarTest, UpdateAtExactlyTheIntervalDraws) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, {.target = 100, .interval = 0.25, .clock = clock.clock()});
  clock.now = 1.0;
  bar.update(1);
  const size_t after_first = out.str().size();
  clock.now = 1.125;
  bar.update(2);
  EXPECT_EQ(out.str().size(), after_first);
  clock.now = 1.25;
  bar.update(3);
  EXPECT_GT(out.str().size(), after_first);
}

TEST(ProgressBarTest, VerboseTwoPrintsOneLineAtTheEnd) {
  FakeClock clock{.now = 1000.0};
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 1875, 2));
  clock.now = 1000.125;
  bar.update(1, {{"accuracy", 0.25}, {"loss", 2.0}}, false);
  clock.now = 1001.0;
  bar.update(1000, {{"accuracy", 0.5}, {"loss", 1.0}}, false);
  EXPECT_EQ(out.str(), "");
  clock.now = 1002.25;
  bar.update(1875, {{"loss", 0.5052}, {"accuracy", 0.8213}}, true);
  EXPECT_EQ(out.str(), "1875/1875 - 2s - 1ms/step - accuracy: 0.8213 - loss: 0.5052\n");
}

TEST(ProgressBarTest, VerboseTwoPrintsNegativeValuesInENotationAsKerasDoes) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 4, 2));
  clock.now = 2.0;
  bar.update(4, {{"delta", -0.5}, {"loss", 0.25}});
  EXPECT_EQ(out.str(), "4/4 - 2s - 500ms/step - delta: -5.0000e-01 - loss: 0.2500\n");

  std::ostringstream out1;
  FakeClock clock1;
  ProgressBar bar1(out1, options(clock1, 4));
  clock1.now = 2.0;
  bar1.update(4, {{"delta", -0.5}});
  EXPECT_EQ(strip_ansi(out1.str()), "\r4/4 ━━━━━━━━━━━━━━━━━━━━ 2s 500ms/step - delta: -0.5000\n");
}

TEST(ProgressBarTest, StepTimeLeavesOutTheFirstStep) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 3, 2));
  clock.now = 1.0;  // a slow first step (warm-up)
  bar.update(1);
  clock.now = 1.5;
  bar.update(3);
  // (1.5 - 1.0) / 2 = 0.25 s per step, not 1.5 / 3; 1.5 s elapsed rounds half to even: "2s".
  EXPECT_EQ(out.str(), "3/3 - 2s - 250ms/step\n");
}

TEST(ProgressBarTest, ElapsedSecondsRoundHalfToEven) {
  for (const auto& [elapsed, text] : std::vector<std::pair<double, std::string>>{
           {2.5, "2s - 2s/step"}, {3.5, "4s - 4s/step"}, {0.5, "0s - 500ms/step"}}) {
    FakeClock clock;
    std::ostringstream out;
    ProgressBar bar(out, options(clock, 1, 2));
    clock.now = elapsed;
    bar.update(1);
    EXPECT_EQ(out.str(), "1/1 - " + text + "\n");
  }
}

TEST(ProgressBarTest, EtaUsesHoursMinutesSecondsPastAnHour) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 10000));
  clock.now = 1.0;
  bar.update(1);
  // 9999 s left = 2 h 46 min 39 s.
  EXPECT_EQ(strip_ansi(out.str()), "\r    1/10000 " + cells(20) + " 2:46:39 1s/step");
}

TEST(ProgressBarTest, EtaFormatsAcrossTheThreeRanges) {
  EXPECT_EQ(detail::format_eta(0.4), "0s");
  EXPECT_EQ(detail::format_eta(59.9), "59s");
  EXPECT_EQ(detail::format_eta(60.0), "60s");  // "> 60" is strict
  EXPECT_EQ(detail::format_eta(60.5), "1:00");
  EXPECT_EQ(detail::format_eta(61.5), "1:01");
  EXPECT_EQ(detail::format_eta(234.25), "3:54");
  EXPECT_EQ(detail::format_eta(3599.0), "59:59");
  EXPECT_EQ(detail::format_eta(3600.0), "60:00");  // "> 3600" is strict
  EXPECT_EQ(detail::format_eta(3600.5), "1:00:00");
  EXPECT_EQ(detail::format_eta(3725.5), "1:02:05");
  EXPECT_EQ(detail::format_eta(90061.0), "25:01:01");
}

TEST(ProgressBarTest, TimePerUnitPicksSecondsMillisecondsOrMicroseconds) {
  EXPECT_EQ(detail::format_time_per_unit(0.0, "step"), " 0s/step");
  EXPECT_EQ(detail::format_time_per_unit(1.0, "step"), " 1s/step");
  EXPECT_EQ(detail::format_time_per_unit(2.5, "step"), " 2s/step");
  EXPECT_EQ(detail::format_time_per_unit(0.5, "step"), " 500ms/step");
  EXPECT_EQ(detail::format_time_per_unit(0.9996, "step"), " 1000ms/step");
  EXPECT_EQ(detail::format_time_per_unit(0.001, "sample"), " 1ms/sample");
  EXPECT_EQ(detail::format_time_per_unit(1.0 / 1024, "step"), " 977us/step");
  EXPECT_EQ(detail::format_time_per_unit(1.0 / (1 << 20), "step"), " 1us/step");
}

TEST(ProgressBarTest, TinyValuesUseENotation) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 2));
  clock.now = 1.0;
  bar.update(2, {{"a", 1.5e-05}, {"b", 0.001}, {"c", 0.0}, {"d", 0.00123}, {"e", -2.5e-4}});
  EXPECT_EQ(strip_ansi(out.str()),
            "\r2/2 " + cells(20) +
                " 1s 500ms/step - a: 1.5000e-05 - b: 1.0000e-03 - c: 0.0000e+00 - d: 0.0012 - e: "
                "-2.5000e-04\n");
}

TEST(ProgressBarTest, PythonFloatFormatting) {
  EXPECT_EQ(detail::python_exponent(1.5e-05, 4), "1.5000e-05");
  EXPECT_EQ(detail::python_exponent(1e-100, 4), "1.0000e-100");
  EXPECT_EQ(detail::python_exponent(123456.0, 4), "1.2346e+05");
  EXPECT_EQ(detail::python_fixed(0.12345, 4), "0.1235");  // the double is just above the tie
  EXPECT_EQ(detail::python_fixed(0.125, 2), "0.12");      // an exact tie goes to even
  EXPECT_EQ(detail::python_fixed(0.375, 2), "0.38");
  EXPECT_EQ(detail::python_fixed(1.5, 0), "2");
  EXPECT_EQ(detail::python_fixed(-0.5, 0), "-0");
  EXPECT_EQ(detail::python_fixed(1e20, 4), "100000000000000000000.0000");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(detail::python_fixed(nan, 4), "nan");
  EXPECT_EQ(detail::python_fixed(-nan, 4), "nan");
  EXPECT_EQ(detail::python_exponent(-nan, 4), "nan");
  EXPECT_EQ(detail::python_fixed(std::numeric_limits<double>::infinity(), 4), "inf");
  EXPECT_EQ(detail::python_fixed(-std::numeric_limits<double>::infinity(), 4), "-inf");
  EXPECT_EQ(detail::python_percent_d(5.9, 2), "05");
  EXPECT_EQ(detail::python_percent_d(-5.9, 2), "-5");
  EXPECT_EQ(detail::python_percent_d(1e20), "100000000000000000000");
  EXPECT_EQ(detail::python_percent_d(-0.3), "0");  // int(-0.3) is 0, never "-0"
  EXPECT_EQ(detail::format_eta(-0.3), "0s");
}

TEST(ProgressBarTest, UnknownTargetThenFinalizedAsProgbarLoggerDoes) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, std::nullopt));
  clock.now = 0.25;
  bar.update(1, {{"loss", 0.5}});
  const std::string first = "\r      1/Unknown " + kB + "0s" + kR + " 250ms/step - loss: 0.5000";
  EXPECT_EQ(out.str(), first);

  clock.now = 2.75;  // (2.75 - 0.25) / 11 = 0.227 s per step; 2.75 s elapsed -> "3s"
  bar.update(12, {{"loss", 0.25}});
  const std::string second =
      backspaces(44) + "\r     12/Unknown " + kB + "3s" + kR + " 227ms/step - loss: 0.2500";
  EXPECT_EQ(out.str(), first + second);

  // Epoch end: ProgbarLogger sets the target to the steps seen, then finalizes.
  bar.set_target(12);
  clock.now = 3.0;
  bar.update(*bar.target(), {{"loss", 0.25}}, true);
  EXPECT_EQ(out.str(), first + second + backspaces(44) + "\r" + kB + "12/12" + kR + " " + kG +
                           cells(20) + kR + kW + kR + " " + kB + "3s" + kR +
                           " 250ms/step - loss: 0.2500\n");
}

TEST(ProgressBarTest, LargeUnknownCountIsNotTruncated) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, std::nullopt, 1, false));
  clock.now = 1.0;
  bar.update(12345678);
  EXPECT_EQ(strip_ansi(out.str()), "\n12345678/Unknown 1s 0us/step");
}

TEST(ProgressBarTest, EmptyTargetDrawsLikeUnknownAndVerboseTwoStaysSilent) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 0));
  bar.update(0);
  EXPECT_EQ(strip_ansi(out.str()), "\r      0/Unknown 0s 0s/step\n");

  std::ostringstream out2;
  ProgressBar bar2(out2, options(clock, 0, 2));
  bar2.update(0);
  EXPECT_EQ(out2.str(), "");
}

TEST(ProgressBarTest, VerboseZeroWritesNothing) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 3, 0));
  clock.now = 1.0;
  bar.update(1, {{"loss", 1.0}});
  bar.update(3, {{"loss", 1.0}});
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBarTest, AddCountsFromTheStepsSeen) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, options(clock, 4, 2));
  clock.now = 1.0;
  bar.add(1);
  bar.add(2);
  EXPECT_EQ(out.str(), "");
  clock.now = 2.0;
  bar.add(1);
  EXPECT_EQ(out.str(), "4/4 - 2s - 333ms/step\n");  // (2 - 1) / 3 s per step
}

TEST(ProgressBarTest, EpochHeaderOnlyWhenMoreThanOneEpoch) {
  std::ostringstream out;
  write_epoch_header(out, 0, 3, 1);
  write_epoch_header(out, 2, 3, 2);
  write_epoch_header(out, 0, 1, 1);
  write_epoch_header(out, 0, 3, 0);
  EXPECT_EQ(out.str(), "Epoch 1/3\nEpoch 3/3\n");
  EXPECT_THROW(write_epoch_header(out, -1, 3, 1), ValueError);
}

TEST(ProgressBarTest, SortLogsOrdersByNameAndKeepsTheLastDuplicate) {
  const Logs sorted = sort_logs(
      {{"val_loss", 4}, {"loss", 1}, {"Loss", 0}, {"accuracy", 2}, {"loss", 3}, {"acc", 5}});
  const Logs expected = {{"Loss", 0}, {"acc", 5}, {"accuracy", 2}, {"loss", 3}, {"val_loss", 4}};
  EXPECT_EQ(sorted, expected);
}

TEST(ProgressBarTest, RejectsBadOptionsAndSteps) {
  FakeClock clock;
  std::ostringstream out;
  EXPECT_THROW(ProgressBar(out, options(clock, 3, 3)), ValueError);
  EXPECT_THROW(ProgressBar(out, options(clock, -1)), ValueError);
  EXPECT_THROW(ProgressBar(out, {.width = 0, .clock = clock.clock()}), ValueError);
  EXPECT_THROW(ProgressBar(out, {.interval = std::nan(""), .clock = clock.clock()}), ValueError);
  ProgressBar bar(out, options(clock, 3));
  EXPECT_THROW(bar.update(-1), ValueError);
  EXPECT_THROW(bar.set_target(-2), ValueError);
  try {
    bar.update(-5);
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("got -5"), std::string::npos);
  }
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace trainyard::keras
