// Callbacks driven by real fit() runs, with scripted logs where a test needs a given
// sequence of monitored values.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keras/callbacks/csv_logger.h"
#include "keras/callbacks/early_stopping.h"
#include "keras/callbacks/learning_rate.h"
#include "keras/callbacks/terminate_on_nan.h"
#include "keras/python_format.h"

namespace trainyard::keras {
namespace {

struct Data {
  Tensor x, y;
};

Data regression(int64_t rows) {
  Data d{Tensor::zeros(Shape{rows, 3}), Tensor::zeros(Shape{rows, 1})};
  RandomGenerator generator(3);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int j = 0; j < 3; ++j) {
      double v = generator.uniform();
      d.x.data<float>()[r * 3 + j] = float(v);
      sum += v * (j + 1);
    }
    d.y.data<float>()[r] = float(sum);
  }
  return d;
}

Sequential small_model() {
  return Sequential({layers::Dense(4, {.activation = "tanh"}), layers::Dense(1)});
}

// Replaces the value of `name` in each epoch's logs by the next of `values`.
std::shared_ptr<LambdaCallback> script(std::string name, std::vector<double> values) {
  auto index = std::make_shared<size_t>(0);
  return std::make_shared<LambdaCallback>(
      LambdaCallbackFunctions{.on_epoch_end = [=](int, Logs& logs) {
        set_log(logs, name, values.at(std::min(*index, values.size() - 1)));
        ++*index;
      }});
}

TEST(PythonReprTest, MatchesPython) {
  EXPECT_EQ(python_repr(0.8212999701499939), "0.8212999701499939");
  EXPECT_EQ(python_repr(0.1), "0.1");
  EXPECT_EQ(python_repr(123.0), "123.0");
  EXPECT_EQ(python_repr(1e-05), "1e-05");
  EXPECT_EQ(python_repr(0.0001), "0.0001");
  EXPECT_EQ(python_repr(1e16), "1e+16");
  EXPECT_EQ(python_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_repr(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(python_repr(NAN), "nan");
}

TEST(EarlyStoppingTest, StopsAfterPatienceAndRestoresBestWeights) {
  set_random_seed(1);
  Data data = regression(64);
  auto model = small_model();
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.05}), .loss = "mse"});
  std::vector<std::vector<Tensor>> weights_by_epoch;
  auto recorder = std::make_shared<LambdaCallback>(LambdaCallbackFunctions{
      .on_epoch_end = [&](int, Logs&) { weights_by_epoch.push_back(model.get_weights()); }});
  auto stopping = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  History history =
      model.fit(data.x, data.y,
                {.epochs = 20,
                 .verbose = 0,
                 .validation_split = 0.25,
                 .callbacks = {recorder, script("val_loss", {1.0, 0.5, 0.7, 0.9, 0.3}), stopping}});
  // Best at epoch 1; epochs 2 and 3 do not improve: stop after epoch 3.
  EXPECT_EQ(history.epoch.size(), 4u);
  EXPECT_EQ(stopping->stopped_epoch(), 3);
  EXPECT_EQ(stopping->best_epoch(), 1);
  auto restored = model.get_weights();
  ASSERT_EQ(restored.size(), weights_by_epoch[1].size());
  for (size_t i = 0; i < restored.size(); ++i) {
    EXPECT_EQ(restored[i].to_vector<float>(), weights_by_epoch[1][i].to_vector<float>());
  }
  EXPECT_NE(restored[0].to_vector<float>(), weights_by_epoch[3][0].to_vector<float>());
  EXPECT_THROW(EarlyStopping({.monitor = "f1_score"}), ValueError);
}

TEST(ReduceLROnPlateauTest, ReducesAfterPatienceThenCoolsDown) {
  Data data = regression(32);
  auto model = small_model();
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}), .loss = "mse"});
  auto reduce = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions{
      .monitor = "loss", .factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.02});
  History history = model.fit(
      data.x, data.y, {.epochs = 7, .verbose = 0, .callbacks = {script("loss", {1.0}), reduce}});
  // Flat loss: epoch 0 sets best; waits 1, 2 -> reduce at epoch 2 (0.1 -> 0.05); cooldown
  // epoch 3; waits at 4, 5 -> reduce at 5 (0.05 -> 0.025); the logged rate is the one in use
  // during the epoch.
  std::vector<double> rates = history.history.at("learning_rate");
  ASSERT_EQ(rates.size(), 7u);
  EXPECT_NEAR(rates[0], 0.1, 1e-7);
  EXPECT_NEAR(rates[2], 0.1, 1e-7);
  EXPECT_NEAR(rates[3], 0.05, 1e-7);
  EXPECT_NEAR(rates[5], 0.05, 1e-7);
  EXPECT_NEAR(rates[6], 0.025, 1e-7);
  EXPECT_NEAR(model.optimizer().learning_rate(), 0.025, 1e-7);
  EXPECT_THROW(ReduceLROnPlateau({.factor = 1.0}), ValueError);
}

TEST(LearningRateSchedulerTest, SetsTheRateEachEpoch) {
  Data data = regression(32);
  auto model = small_model();
  model.compile({.optimizer = "sgd", .loss = "mse"});
  auto scheduler =
      std::make_shared<LearningRateScheduler>([](int epoch, double) { return 0.1 / (epoch + 1); });
  History history =
      model.fit(data.x, data.y, {.epochs = 3, .verbose = 0, .callbacks = {scheduler}});
  auto rates = history.history.at("learning_rate");
  EXPECT_NEAR(rates[0], 0.1, 1e-8);
  EXPECT_NEAR(rates[2], 0.1 / 3, 1e-8);
}

TEST(CSVLoggerTest, WritesKerasRowsWithNAForMissingValidation) {
  Data data = regression(32);
  auto model = small_model();
  model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae"}});
  auto path = std::filesystem::temp_directory_path() / "trainyard_csv_logger_test.csv";
  model.fit(data.x, data.y,
            {.epochs = 2, .verbose = 0, .callbacks = {std::make_shared<CSVLogger>(path.string())}});
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  std::string content = text.str();
  EXPECT_EQ(content.rfind("epoch,loss,mae,val_loss,val_mae\r\n", 0), 0u) << content;
  EXPECT_NE(content.find("\r\n0,"), std::string::npos);
  EXPECT_NE(content.find(",NA,NA\r\n1,"), std::string::npos) << content;
  // append: a second run adds rows, not a header.
  model.fit(data.x, data.y,
            {.epochs = 1,
             .verbose = 0,
             .callbacks = {std::make_shared<CSVLogger>(path.string(), ",", true)}});
  std::ifstream again(path, std::ios::binary);
  std::stringstream more;
  more << again.rdbuf();
  size_t headers = 0;
  for (size_t at = more.str().find("epoch,"); at != std::string::npos;
       at = more.str().find("epoch,", at + 1)) {
    ++headers;
  }
  EXPECT_EQ(headers, 1u);
  std::filesystem::remove(path);
}

TEST(TerminateOnNaNTest, StopsWithinTheFirstEpochOfADivergingRun) {
  Data data = regression(256);
  auto model = small_model();
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 1e6}), .loss = "mse"});
  std::ostringstream out;
  History history = model.fit(data.x, data.y,
                              {.batch_size = 8,
                               .epochs = 5,
                               .verbose = 0,
                               .callbacks = {std::make_shared<TerminateOnNaN>(&out)}});
  EXPECT_TRUE(model.stop_training);
  EXPECT_EQ(history.epoch.size(), 1u);
  EXPECT_NE(out.str().find("Invalid loss, terminating training"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::keras
