// fit(sample_weight=..., class_weight=...) and evaluate(sample_weight=...): Keras's weighted
// loss sum(w * loss) / batch size, which only the loss sees.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <cmath>
#include <string>

#include "fit_test_support.h"
#include "keras/sample_weights.h"

namespace trainyard::keras {
namespace {

using testing::all_weights;
using testing::argmax_problem;
using testing::bitwise_equal;
using testing::Problem;
using testing::seeded_classifier;

// Throws from `run` and checks that the message names every one of `words`.
template <typename Error, typename Run>
void expect_error(Run run, std::initializer_list<const char*> words) {
  try {
    run();
    FAIL() << "no error";
  } catch (const Error& error) {
    std::string message = error.what();
    for (const char* word : words) EXPECT_NE(message.find(word), std::string::npos) << message;
  }
}

TEST(FitWeightsTest, WeightsOfOneAreBitwiseTheSameAsNoWeights) {
  set_num_threads(1);
  Problem data = argmax_problem(100, 3);
  auto plain = seeded_classifier(5);
  History plain_history =
      plain.fit(data.x, data.y, {.batch_size = 16, .epochs = 2, .verbose = 0, .seed = 9});
  auto weighted = seeded_classifier(5);
  Tensor ones = Tensor::zeros(Shape{100});
  ones.fill(1.0);
  History weighted_history =
      weighted.fit(data.x, data.y,
                   {.batch_size = 16, .epochs = 2, .verbose = 0, .sample_weight = ones, .seed = 9});
  EXPECT_TRUE(bitwise_equal(all_weights(plain), all_weights(weighted)));
  EXPECT_EQ(plain_history.history.at("loss"), weighted_history.history.at("loss"));
  set_num_threads(2);
}

TEST(FitWeightsTest, ClassWeightIsSampleWeightOfItsClass) {
  set_num_threads(1);
  Problem data = argmax_problem(100, 4);
  Tensor by_sample = Tensor::zeros(Shape{100}, DType::kFloat64);  // cast to float32 by fit
  for (int64_t r = 0; r < 100; ++r) by_sample.data<double>()[r] = data.y.data<int32_t>()[r] == 2;
  for (int64_t r = 0; r < 100; ++r) by_sample.data<double>()[r] += 1.0;  // 2 for class 2, else 1
  auto sampled = seeded_classifier(6);
  History sampled_history = sampled.fit(
      data.x, data.y,
      {.batch_size = 16, .epochs = 2, .verbose = 0, .sample_weight = by_sample, .seed = 1});
  auto classed = seeded_classifier(6);
  History classed_history = classed.fit(
      data.x, data.y,
      {.batch_size = 16, .epochs = 2, .verbose = 0, .class_weight = {{2, 2.0}}, .seed = 1});
  EXPECT_TRUE(bitwise_equal(all_weights(sampled), all_weights(classed)));
  EXPECT_EQ(sampled_history.history.at("loss"), classed_history.history.at("loss"));
  // And the weights did change training.
  auto plain = seeded_classifier(6);
  plain.fit(data.x, data.y, {.batch_size = 16, .epochs = 2, .verbose = 0, .seed = 1});
  EXPECT_FALSE(bitwise_equal(all_weights(plain), all_weights(classed)));
  set_num_threads(2);
}

TEST(FitWeightsTest, ClassOfASampleIsArgmaxOfOneHotOrRoundedLabel) {
  Tensor one_hot = Tensor::from_vector<float>({3, 3}, {0, 1, 0, 1, 0, 0, 0, 0.4f, 0.6f});
  EXPECT_EQ(class_weight_to_sample_weight(one_hot, {{1, 3.0}, {2, 0.5}}).to_vector<float>(),
            (std::vector<float>{3, 1, 0.5f}));
  // round(y), half to even: 1.4 -> 1, 2.5 -> 2, 0.6 -> 1; class 7 is not in the map.
  Tensor sparse = Tensor::from_vector<float>({4, 1}, {1.4f, 2.5f, 0.6f, 7});
  EXPECT_EQ(class_weight_to_sample_weight(sparse, {{1, 4.0}, {2, 5.0}}).to_vector<float>(),
            (std::vector<float>{4, 5, 4, 1}));
  EXPECT_THROW(class_weight_to_sample_weight(sparse, {{-1, 2.0}}), ValueError);
  EXPECT_THROW(class_weight_to_sample_weight(Tensor::zeros(Shape{2, 2, 2}), {{0, 2.0}}),
               ValueError);
}

// Dense(1) on 3 features, mse, one SGD step over the whole batch, against float64.
TEST(FitWeightsTest, WeightedLossAndStepMatchFloat64Reference) {
  const std::vector<double> x = {1, 2, 3, -1, 0.5, 2, 0, 1, -2, 3, 1, 1};
  const std::vector<double> y = {1, -2, 0.5, 3};
  const std::vector<double> w = {0, 0.5, 2, 3};  // sum 5.5, not the batch size 4
  const std::vector<double> kernel = {0.5, -0.25, 0.75};
  const double bias = 0.1, learning_rate = 0.05;
  std::vector<double> error(4);
  double loss = 0;
  for (int i = 0; i < 4; ++i) {
    double prediction = bias;
    for (int j = 0; j < 3; ++j) prediction += x[i * 3 + j] * kernel[j];
    error[i] = prediction - y[i];
    loss += w[i] * error[i] * error[i];
  }
  loss /= 4;  // Keras divides by the batch size, not by sum(w)
  std::vector<double> expected = kernel;
  double expected_bias = bias;
  for (int i = 0; i < 4; ++i) {
    double g = w[i] * 2 * error[i] / 4;
    for (int j = 0; j < 3; ++j) expected[j] -= learning_rate * g * x[i * 3 + j];
    expected_bias -= learning_rate * g;
  }

  auto to_float = [](const std::vector<double>& v) {
    return std::vector<float>(v.begin(), v.end());
  };
  Tensor x_tensor = Tensor::from_vector<float>({4, 3}, to_float(x));
  Tensor y_tensor = Tensor::from_vector<float>({4, 1}, to_float(y));
  Tensor w_tensor = Tensor::from_vector<float>({4}, to_float(w));
  auto model = Sequential({layers::Dense(1)});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = learning_rate}), .loss = "mse"});
  model.build(Shape{-1, 3});
  model.set_weights({Tensor::from_vector<float>({3, 1}, to_float(kernel)),
                     Tensor::from_vector<float>({1}, {static_cast<float>(bias)})});

  Logs evaluated = model.evaluate(x_tensor, y_tensor, {.verbose = 0, .sample_weight = w_tensor});
  EXPECT_NEAR(evaluated.at(0).second, loss, 1e-6 * std::abs(loss));
  History history =
      model.fit(x_tensor, y_tensor,
                {.batch_size = 4, .verbose = 0, .shuffle = false, .sample_weight = w_tensor});
  EXPECT_NEAR(history.last("loss"), loss, 1e-6 * std::abs(loss));
  std::vector<float> after = all_weights(model);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(after[j], expected[j], 1e-6) << j;
  EXPECT_NEAR(after[3], expected_bias, 1e-6);
}

TEST(FitWeightsTest, MetricsStayUnweighted) {
  Problem data = argmax_problem(40, 8);
  auto model = seeded_classifier(2);
  Logs plain = model.evaluate(data.x, data.y, {.verbose = 0});
  Tensor weights = Tensor::zeros(Shape{40});
  for (int64_t r = 0; r < 40; ++r) weights.data<float>()[r] = static_cast<float>(r % 3);
  Logs weighted = model.evaluate(data.x, data.y, {.verbose = 0, .sample_weight = weights});
  EXPECT_EQ(find_log(plain, "accuracy"), find_log(weighted, "accuracy"));
  EXPECT_NE(find_log(plain, "loss"), find_log(weighted, "loss"));
}

TEST(FitWeightsTest, ValidationSplitKeepsSampleWeightsButNotClassWeights) {
  // Targets 10 on the held-out tail, zero-initialised model, lr 0: val_loss = mean(w * 100).
  Tensor x = Tensor::zeros(Shape{10, 1});
  Tensor y = Tensor::zeros(Shape{10, 1});
  Tensor w = Tensor::zeros(Shape{10});
  w.fill(1.0);
  for (int64_t r = 8; r < 10; ++r) {
    y.data<float>()[r] = 10;
    w.data<float>()[r] = 3;
  }
  auto model = Sequential({layers::Dense(1, {.kernel_initializer = "zeros"})});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  History weighted = model.fit(x, y, {.verbose = 0, .validation_split = 0.2, .sample_weight = w});
  EXPECT_DOUBLE_EQ(weighted.last("val_loss"), 300.0);
  History classed =
      model.fit(x, y, {.verbose = 0, .validation_split = 0.2, .class_weight = {{10, 3.0}}});
  EXPECT_DOUBLE_EQ(classed.last("val_loss"), 100.0);
}

TEST(FitWeightsTest, ErrorsNameTheArgument) {
  Problem data = argmax_problem(8, 1);
  auto model = seeded_classifier(1);
  Tensor weights = Tensor::zeros(Shape{8});
  expect_error<ValueError>(
      [&] {
        model.fit(data.x, data.y,
                  {.verbose = 0, .class_weight = {{0, 2.0}}, .sample_weight = weights});
      },
      {"class_weight", "sample_weight"});
  expect_error<ShapeError>(
      [&] { model.fit(data.x, data.y, {.verbose = 0, .sample_weight = Tensor::zeros(Shape{7})}); },
      {"fit", "sample_weight", "[8]"});
  expect_error<ShapeError>(
      [&] {
        model.fit(data.x, data.y, {.verbose = 0, .sample_weight = Tensor::zeros(Shape{8, 2})});
      },
      {"sample_weight"});
  expect_error<ShapeError>(
      [&] {
        model.evaluate(data.x, data.y, {.verbose = 0, .sample_weight = Tensor::zeros(Shape{9})});
      },
      {"evaluate", "sample_weight"});

  auto input = Input({4});
  Functional two_outputs({input}, {layers::Dense(1)(input), layers::Dense(1)(input)});
  two_outputs.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor target = Tensor::zeros(Shape{8, 1});
  expect_error<ValueError>(
      [&] {
        two_outputs.fit(data.x, {target, target}, {.verbose = 0, .class_weight = {{0, 2.0}}});
      },
      {"class_weight", "one output"});
}

TEST(FitWeightsTest, OneSampleWeightWeighsEveryOutput) {
  auto input = Input({4});
  Functional model(
      {input}, {layers::Dense(1, {.name = "a"})(input), layers::Dense(1, {.name = "b"})(input)});
  model.compile({.optimizer = "sgd", .loss = "mse"});
  Problem data = argmax_problem(6, 2);
  Tensor target = Tensor::zeros(Shape{6, 1});
  target.fill(1.0);
  Tensor twos = Tensor::zeros(Shape{6});
  twos.fill(2.0);
  Logs plain = model.evaluate(data.x, {target, target}, {.verbose = 0});
  Logs doubled = model.evaluate(data.x, {target, target}, {.verbose = 0, .sample_weight = twos});
  for (const char* name : {"loss", "a_loss", "b_loss"}) {
    EXPECT_NEAR(*find_log(doubled, name), 2 * *find_log(plain, name), 1e-6) << name;
  }
}

}  // namespace
}  // namespace trainyard::keras
