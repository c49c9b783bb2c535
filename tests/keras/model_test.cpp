#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cmath>
#include <sstream>

#include "fit_test_support.h"
#include "keras/trainer.h"

namespace trainyard::keras {
namespace {

using testing::argmax_problem;
using testing::Problem;

Sequential small_classifier() {
  return Sequential({layers::Dense(16, {.activation = "tanh"}), layers::Dense(4)});
}

std::vector<float> all_weights(const Model& model) {
  std::vector<float> values;
  for (auto& variable : model.weights()) {
    auto v = variable->value.to_vector<float>();
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

TEST(ModelTest, FitLearnsAndRecordsKerasHistory) {
  set_random_seed(1);
  Problem data = argmax_problem(2000, 7);
  auto model = small_classifier();
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                 .loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  std::ostringstream out;
  History history = model.fit(
      data.x, data.y,
      {.batch_size = 32, .epochs = 5, .verbose = 2, .validation_split = 0.2, .output = &out});
  EXPECT_EQ(history.epoch, (std::vector<int>{0, 1, 2, 3, 4}));
  for (const char* key : {"accuracy", "loss", "val_accuracy", "val_loss"}) {
    ASSERT_EQ(history.history.count(key), 1u) << key;
    EXPECT_EQ(history.history.at(key).size(), 5u);
  }
  EXPECT_LT(history.history["loss"].back(), history.history["loss"].front());
  EXPECT_GT(history.last("val_accuracy"), 0.85);
  EXPECT_EQ(history.steps, 50);  // 1600 training samples / 32
  std::string text = out.str();
  EXPECT_NE(text.find("Epoch 1/5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("50/50 - "), std::string::npos) << text;
  EXPECT_NE(text.find(" - accuracy: "), std::string::npos);
  EXPECT_LT(text.find("accuracy:"), text.find("loss:"));  // Keras 3 sorts log keys
  EXPECT_THROW(history.last("auc"), ValueError);
}

TEST(ModelTest, EvaluateMatchesLossComputedFromPredictions) {
  set_random_seed(2);
  Problem data = argmax_problem(70, 3);  // 70 = two full batches of 32 and one of 6
  auto model = small_classifier();
  model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor targets = Tensor::zeros(Shape{70, 4});
  for (int64_t r = 0; r < 70; ++r) targets.data<float>()[r * 4 + data.y.data<int32_t>()[r]] = 1;
  Logs logs = model.evaluate(data.x, targets, {.verbose = 0});
  Tensor predictions = model.predict(data.x);
  ASSERT_EQ(predictions.shape(), Shape({70, 4}));
  double expected = 0;
  for (int64_t i = 0; i < predictions.num_elements(); ++i) {
    double d = predictions.data<float>()[i] - targets.data<float>()[i];
    expected += d * d;
  }
  expected /= 70 * 4;
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].first, "loss");
  EXPECT_NEAR(logs[0].second, expected, 1e-6);
}

TEST(ModelTest, TrainOnBatchWithSgdMatchesHandComputedStep) {
  // One linear unit, no bias, mse: w <- w - lr * 2/N * sum_i (x_i w - y_i) x_i.
  auto model = Sequential({layers::Dense(1, {.use_bias = false, .kernel_initializer = "ones"})});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}), .loss = "mse"});
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor y = Tensor::from_vector<float>({2, 1}, {1, 0});
  Logs logs = model.train_on_batch(x, y);
  // Predictions 3 and 7; loss = ((3-1)^2 + 7^2) / 2 = 26.5.
  EXPECT_NEAR(logs[0].second, 26.5, 1e-5);
  // grad = 2/2 * [(3-1)*1 + 7*3, (3-1)*2 + 7*4] = [23, 32].
  auto w = model.weights()[0]->value.to_vector<float>();
  EXPECT_NEAR(w[0], 1 - 0.1 * 23, 1e-5);
  EXPECT_NEAR(w[1], 1 - 0.1 * 32, 1e-5);
}

TEST(ModelTest, SameSeedOneThreadGivesBitwiseIdenticalWeights) {
  set_num_threads(1);
  auto run = [] {
    set_random_seed(123);
    Problem data = argmax_problem(300, 5);
    auto model = Sequential(
        {layers::Dense(16, {.activation = "relu"}), layers::Dropout(0.3), layers::Dense(4)});
    model.compile({.optimizer = "adam",
                   .loss = losses::SparseCategoricalCrossentropy({.from_logits = true})});
    model.fit(data.x, data.y, {.batch_size = 32, .epochs = 2, .verbose = 0});
    return all_weights(model);
  };
  auto first = run();
  auto second = run();
  ASSERT_EQ(first.size(), second.size());
  EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float)));
  set_num_threads(2);
}

TEST(ModelTest, PlansAreCompiledOncePerBatchSize) {
  Problem data = argmax_problem(100, 9);  // batches of 32, 32, 32, 4
  auto model = small_classifier();
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  model.fit(data.x, data.y, {.epochs = 3, .verbose = 0});
  EXPECT_EQ(model.trainer().compiled_plan_count(), 2u);  // train at 32 and at 4
  EXPECT_EQ(model.optimizer().iterations(), 12);
}

TEST(ModelTest, ClearErrors) {
  Problem data = argmax_problem(10, 1);
  auto model = small_classifier();
  try {
    model.fit(data.x, data.y);
    FAIL();
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("compile"), std::string::npos);
  }
  EXPECT_THROW(model.compile({.loss = "hinge"}), ValueError);
  EXPECT_THROW(model.compile({.optimizer = "adamax", .loss = "mse"}), ValueError);
  EXPECT_THROW(model.compile({}), ValueError);
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  EXPECT_THROW(model.fit(data.x, Tensor::zeros(Shape{9})), ShapeError);
  EXPECT_THROW(model.fit(data.x, data.y, {.batch_size = 0}), ValueError);
  EXPECT_THROW(model.fit(data.x, data.y, {.validation_split = 1.0}), ValueError);
  // Labels outside the class range are named, not silently trained on.
  Tensor bad = data.y.clone();
  bad.data<int32_t>()[3] = 7;
  EXPECT_THROW(model.fit(data.x, bad, {.verbose = 0}), ValueError);
}

TEST(ModelTest, ValidationSplitHoldsOutTheLastSamples) {
  // Train on samples whose targets are 0 and validate on a tail whose targets are 10: the
  // validation loss can only be large if the tail really was held out.
  Tensor x = Tensor::zeros(Shape{100, 1});
  Tensor y = Tensor::zeros(Shape{100, 1});
  for (int64_t r = 80; r < 100; ++r) y.data<float>()[r] = 10;
  auto model = Sequential({layers::Dense(1, {.kernel_initializer = "zeros"})});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  History history = model.fit(x, y, {.epochs = 1, .verbose = 0, .validation_split = 0.2});
  EXPECT_DOUBLE_EQ(history.last("loss"), 0.0);
  EXPECT_DOUBLE_EQ(history.last("val_loss"), 100.0);
}

TEST(ModelTest, PredictWorksWithoutCompile) {
  auto model = Sequential({layers::Dense(2, {.kernel_initializer = "ones"})});
  Tensor out = model.predict(Tensor::from_vector<float>({1, 3}, {1, 2, 3}));
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{6, 6}));
}

}  // namespace
}  // namespace trainyard::keras

namespace trainyard::keras {
namespace {

TEST(ModelTest, RegularizationPenaltyIsPartOfTheLoss) {
  // One linear unit with kernel ones and an L2 penalty of 0.5: loss = mse + 0.5 * sum(w^2).
  auto model = Sequential({layers::Dense(1, {.use_bias = false,
                                             .kernel_initializer = "ones",
                                             .kernel_regularizer = nn::regularizers::L2(0.5)})});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor y = Tensor::from_vector<float>({2, 1}, {1, 0});
  Logs logs = model.evaluate(x, y, {.verbose = 0});
  EXPECT_NEAR(logs[0].second, 26.5 + 0.5 * 2.0, 1e-5);
}

}  // namespace
}  // namespace trainyard::keras
