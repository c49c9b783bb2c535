// fit(steps_per_epoch=..., validation_freq=...): how many batches an epoch takes, where it
// continues, and after which epochs validation runs.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <sstream>

#include "fit_test_support.h"

namespace trainyard::keras {
namespace {

using testing::argmax_problem;
using testing::EpochProbe;
using testing::Problem;
using testing::seeded_classifier;

bool has(const std::vector<std::string>& keys, const char* key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

TEST(FitScheduleTest, StepsPerEpochCountsBatches) {
  Problem data = argmax_problem(24, 1);  // 6 batches of 4 per pass: epochs take 2 each
  auto model = seeded_classifier(1);
  auto probe = std::make_shared<EpochProbe>();
  History history = model.fit(
      data.x, data.y,
      {.batch_size = 4, .epochs = 3, .verbose = 0, .steps_per_epoch = 2, .callbacks = {probe}});
  EXPECT_EQ(history.steps, 2);
  EXPECT_EQ(history.history.at("loss").size(), 3u);
  EXPECT_EQ(model.optimizer().iterations(), 6);
  ASSERT_EQ(probe->steps.size(), 3u);
  for (const auto& steps : probe->steps) EXPECT_EQ(steps, (std::vector<int64_t>{0, 1}));
}

TEST(FitScheduleTest, PassThatRunsOutEndsTheEpochEarlyWithKerasWarning) {
  Problem data = argmax_problem(20, 2);  // 5 batches per pass
  auto model = seeded_classifier(2);
  auto probe = std::make_shared<EpochProbe>();
  std::ostringstream out;
  History history = model.fit(data.x, data.y,
                              {.batch_size = 4,
                               .epochs = 3,
                               .verbose = 0,
                               .steps_per_epoch = 3,
                               .output = &out,
                               .callbacks = {probe}});
  // Epoch 1 takes batches 0-2 of the pass, epoch 2 only 3-4 (the pass ends), epoch 3 a new
  // pass; training goes on, as in Keras 3.
  ASSERT_EQ(probe->steps.size(), 3u);
  EXPECT_EQ(probe->steps[0], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(probe->steps[1], (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(probe->steps[2], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(model.optimizer().iterations(), 8);
  EXPECT_EQ(history.epoch, (std::vector<int>{0, 1, 2}));
  std::string text = out.str();
  EXPECT_NE(text.find("Your input ran out of data"), std::string::npos) << text;
  EXPECT_EQ(text.find("ran out"), text.rfind("ran out")) << "warned once: " << text;
}

TEST(FitScheduleTest, EpochEndingWithItsPassDoesNotWarn) {
  Problem data = argmax_problem(16, 3);  // 4 batches per pass = 2 epochs of 2
  auto model = seeded_classifier(3);
  std::ostringstream out;
  model.fit(data.x, data.y,
            {.batch_size = 4, .epochs = 4, .verbose = 0, .steps_per_epoch = 2, .output = &out});
  EXPECT_EQ(model.optimizer().iterations(), 8);
  EXPECT_EQ(out.str(), "");
}

TEST(FitScheduleTest, StepsPerEpochDrawsTheBarToItsTarget) {
  Problem data = argmax_problem(40, 4);
  auto model = seeded_classifier(4);
  std::ostringstream out;
  model.fit(data.x, data.y,
            {.batch_size = 4, .epochs = 1, .verbose = 2, .steps_per_epoch = 3, .output = &out});
  EXPECT_NE(out.str().find("3/3 - "), std::string::npos) << out.str();
}

TEST(FitScheduleTest, ValidationFreqValidatesEveryNthEpochCountingFromOne) {
  Problem data = argmax_problem(40, 5);
  auto model = seeded_classifier(5);
  auto probe = std::make_shared<EpochProbe>();
  History history = model.fit(data.x, data.y,
                              {.batch_size = 8,
                               .epochs = 5,
                               .verbose = 0,
                               .validation_split = 0.25,
                               .validation_freq = 2,
                               .callbacks = {probe}});
  ASSERT_EQ(probe->keys.size(), 5u);
  for (int epoch = 0; epoch < 5; ++epoch) {
    bool validated = (epoch + 1) % 2 == 0;  // epochs 2 and 4, as Keras numbers them
    EXPECT_EQ(has(probe->keys[epoch], "val_loss"), validated) << epoch;
    EXPECT_EQ(has(probe->keys[epoch], "val_accuracy"), validated) << epoch;
  }
  EXPECT_EQ(history.history.at("loss").size(), 5u);
  EXPECT_EQ(history.history.at("val_loss").size(), 2u);
}

TEST(FitScheduleTest, ErrorsNameTheArgument) {
  Problem data = argmax_problem(8, 6);
  auto model = seeded_classifier(6);
  for (int64_t steps : {0, -3}) {
    try {
      model.fit(data.x, data.y, {.verbose = 0, .steps_per_epoch = steps});
      FAIL();
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find("steps_per_epoch must be >= 1"), std::string::npos)
          << error.what();
    }
  }
  try {
    model.fit(data.x, data.y, {.verbose = 0, .validation_freq = 0});
    FAIL();
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("validation_freq must be >= 1, got 0"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(model.optimizer().iterations(), 0);  // nothing trained before the errors
}

}  // namespace
}  // namespace trainyard::keras
