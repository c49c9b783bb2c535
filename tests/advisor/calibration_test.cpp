// The calibration measures real steps, so its figures vary; what it must get right is the
// arithmetic that links them and the bounds of the result.
#include "advisor/calibration.h"

#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include "advisor/flops.h"
#include "core/error.h"

namespace trainyard::advisor {
namespace {

namespace k = keras;

TEST(CalibrationTest, CpuPeakIsCoresTimesClockTimes32) {
  const CpuPeak peak{.cores = 4, .clock_hz = 2.5e9, .clock_measured = true};
  EXPECT_DOUBLE_EQ(peak.flops_per_second(), 4 * 2.5e9 * 32);
  const CpuPeak here = this_cpu_peak();
  EXPECT_GE(here.cores, 1);
  EXPECT_GT(here.clock_hz, 0);
}

TEST(CalibrationTest, AchievedRateIsTrainingFlopsTimesBatchOverStepTime) {
  auto input = k::Input({16}, "x");
  auto hidden = k::layers::Dense(32, {.activation = "relu"})(input);
  k::Functional model(input, k::layers::Dense(4)(hidden), "calibrated");
  const int64_t training_flops = count_flops(model).training_per_sample();

  const Calibration calibration = calibrate_on_this_host(model, 8);
  EXPECT_EQ(calibration.batch, 8);
  ASSERT_GT(calibration.seconds_per_step, 0);
  EXPECT_NEAR(calibration.achieved_flops_per_second,
              static_cast<double>(training_flops) * 8 / calibration.seconds_per_step,
              calibration.achieved_flops_per_second * 1e-12);
  EXPECT_GT(calibration.efficiency, 0);
  EXPECT_LE(calibration.efficiency, 1);
  EXPECT_NE(calibration.describe().find("efficiency"), std::string::npos);
  EXPECT_THROW(calibrate_on_this_host(model, 0), ValueError);
}

}  // namespace
}  // namespace trainyard::advisor
