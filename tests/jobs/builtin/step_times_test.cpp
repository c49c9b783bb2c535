// StepTimesRecorder under a real fit(): which step's times it keeps, its JSON, and its clock.
#include "jobs/builtin/step_times.h"

#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "keras/callbacks/terminate_on_nan.h"

namespace trainyard::jobs::builtin {
namespace {

namespace keras = trainyard::keras;
using Json = nlohmann::json;

int64_t system_clock_microseconds() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(StepTimesTest, NothingRecordedBeforeTheFirstStep) {
  StepTimesRecorder recorder;
  EXPECT_TRUE(recorder.wants_batch_events());  // fit() skips the batch hooks otherwise
  EXPECT_EQ(recorder.steps(), 0);
  EXPECT_FALSE(recorder.first_step_begin_us());
  EXPECT_FALSE(recorder.last_step_end_us());
  Json json = Json::parse(recorder.to_json());
  EXPECT_EQ(json["steps"], 0);
  EXPECT_TRUE(json["first_step_begin_us"].is_null());
  EXPECT_TRUE(json["last_step_end_us"].is_null());
}

// Over 2 epochs of 3 batches: the first step's begin stays, every step's end replaces the
// one before, and batch indices restarting each epoch reset nothing.
TEST(StepTimesTest, KeepsTheFirstBeginAndTheLatestEnd) {
  set_random_seed(1);
  auto model =
      keras::Sequential({keras::layers::Dense(4, {.activation = "tanh"}), keras::layers::Dense(1)});
  model.compile({.optimizer = keras::optimizers::SGD({.learning_rate = 0.05}), .loss = "mse"});
  Tensor x = Tensor::zeros(Shape{10, 3});
  Tensor y = Tensor::zeros(Shape{10, 1});

  auto recorder = std::make_shared<StepTimesRecorder>();
  std::vector<int64_t> ends;  // the recorder's value after each step, read by a later callback
  auto reader = std::make_shared<keras::LambdaCallback>(
      keras::LambdaCallbackFunctions{.on_train_batch_end = [&](int64_t, const keras::BatchLogs&) {
        ends.push_back(recorder->last_step_end_us().value_or(-1));
      }});
  int64_t before = system_clock_microseconds();
  model.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0, .callbacks = {recorder, reader}});
  int64_t after = system_clock_microseconds();

  EXPECT_EQ(recorder->steps(), 6);
  ASSERT_EQ(ends.size(), 6u);
  ASSERT_TRUE(recorder->first_step_begin_us());
  EXPECT_LE(before, *recorder->first_step_begin_us());
  EXPECT_LE(*recorder->first_step_begin_us(), ends.front());
  EXPECT_TRUE(std::is_sorted(ends.begin(), ends.end()));
  EXPECT_EQ(*recorder->last_step_end_us(), ends.back());
  EXPECT_LE(ends.back(), after);

  Json json = Json::parse(recorder->to_json());
  EXPECT_EQ(json["clock"], "CLOCK_REALTIME");
  EXPECT_EQ(json["unit"], "us");
  EXPECT_EQ(json["steps"], 6);
  EXPECT_EQ(json["first_step_begin_us"].get<int64_t>(), *recorder->first_step_begin_us());
  EXPECT_EQ(json["last_step_end_us"].get<int64_t>(), ends.back());
}

// CLOCK_REALTIME, which std::chrono::system_clock reads on Linux: the value lies between two
// reads of the system clock, so timestamps taken by other processes compare with it.
TEST(StepTimesTest, MicrosecondsOfTheRealTimeClock) {
  int64_t before = system_clock_microseconds();
  int64_t now = realtime_microseconds();
  int64_t after = system_clock_microseconds();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

}  // namespace
}  // namespace trainyard::jobs::builtin
