// fit, evaluate and predict on a data::Dataset of (x, y[, sample_weight]) batches.
#include <gtest/gtest.h>
#include <trainyard/keras.h>

#include <sstream>

#include "fit_test_support.h"

namespace trainyard::keras {
namespace {

using testing::all_weights;
using testing::argmax_problem;
using testing::bitwise_equal;
using testing::Problem;
using testing::seeded_classifier;

TEST(FitDatasetTest, DatasetTrainsBitwiseAsTheSameArrays) {
  set_num_threads(1);
  Problem data = argmax_problem(50, 1);  // int32 labels: converted while gathering
  Tensor weights = Tensor::zeros(Shape{50});
  for (int64_t r = 0; r < 50; ++r) weights.data<float>()[r] = 0.5f + static_cast<float>(r % 4);
  auto from_arrays = seeded_classifier(7);
  History array_history = from_arrays.fit(
      data.x, data.y,
      {.batch_size = 8, .epochs = 2, .verbose = 0, .shuffle = false, .sample_weight = weights});
  auto from_dataset = seeded_classifier(7);
  auto dataset = data::Dataset::from_tensors({data.x, data.y, weights}).batch(8);
  History dataset_history = from_dataset.fit(dataset, {.epochs = 2, .verbose = 0});
  EXPECT_TRUE(bitwise_equal(all_weights(from_arrays), all_weights(from_dataset)));
  EXPECT_EQ(array_history.history.at("loss"), dataset_history.history.at("loss"));
  EXPECT_EQ(dataset_history.steps, 7);
  set_num_threads(2);
}

TEST(FitDatasetTest, RepeatingDatasetNeedsStepsPerEpoch) {
  Problem data = argmax_problem(12, 2);
  auto model = seeded_classifier(2);
  auto forever = data::Dataset::from_tensors({data.x, data.y}).shuffle(3).repeat().batch(5);
  try {
    model.fit(forever, {.verbose = 0});
    FAIL();
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("steps_per_epoch"), std::string::npos);
  }
  History history = model.fit(forever, {.epochs = 3, .verbose = 0, .steps_per_epoch = 4});
  EXPECT_EQ(model.optimizer().iterations(), 12);
  EXPECT_EQ(history.steps, 4);
  EXPECT_THROW(model.evaluate(forever), ValueError);
}

TEST(FitDatasetTest, ValidationDataCanBeADataset) {
  Problem data = argmax_problem(30, 3);
  Problem held = argmax_problem(10, 4);
  auto model = seeded_classifier(3);
  auto train = data::Dataset::from_tensors({data.x, data.y}).batch(8);
  auto validation = data::Dataset::from_tensors({held.x, held.y}).batch(4);
  History history = model.fit(
      train, {.epochs = 2, .verbose = 0, .validation_data = ValidationData{.dataset = validation}});
  ASSERT_EQ(history.history.at("val_loss").size(), 2u);
  Logs evaluated = model.evaluate(held.x, held.y, {.batch_size = 4, .verbose = 0});
  EXPECT_DOUBLE_EQ(history.last("val_loss"), *find_log(evaluated, "loss"));
}

TEST(FitDatasetTest, EvaluateAndPredictMatchArrays) {
  Problem data = argmax_problem(21, 5);  // a partial last batch of 5
  auto model = seeded_classifier(5);
  Tensor weights = Tensor::zeros(Shape{21});
  for (int64_t r = 0; r < 21; ++r) weights.data<float>()[r] = static_cast<float>(r % 3);
  Logs from_arrays =
      model.evaluate(data.x, data.y, {.batch_size = 8, .verbose = 0, .sample_weight = weights});
  auto dataset = data::Dataset::from_tensors({data.x, data.y, weights}).batch(8);
  EXPECT_EQ(model.evaluate(dataset, {.verbose = 0}), from_arrays);

  Tensor expected = model.predict(data.x, {.batch_size = 8});
  // The targets and weights after x are ignored, as Keras's predict ignores y.
  std::vector<Tensor> predicted = model.predict(dataset);
  ASSERT_EQ(predicted.size(), 1u);
  EXPECT_EQ(predicted[0].shape(), expected.shape());
  EXPECT_EQ(predicted[0].to_vector<float>(), expected.to_vector<float>());
}

TEST(FitDatasetTest, ErrorsNameTheProblem) {
  Problem data = argmax_problem(8, 6);
  auto model = seeded_classifier(6);
  auto expect_message = [](auto run, const char* words) {
    try {
      run();
      FAIL() << "no error";
    } catch (const ValueError& error) {
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
  };
  auto unbatched = data::Dataset::from_tensors({data.x, data.y});
  expect_message([&] { model.fit(unbatched, {.verbose = 0}); }, "call batch()");
  auto only_x = data::Dataset::from_tensors({data.x}).batch(4);
  expect_message([&] { model.fit(only_x, {.verbose = 0}); }, "must hold 2 arrays");
  auto batched = data::Dataset::from_tensors({data.x, data.y}).batch(4);
  expect_message([&] { model.fit(batched, {.verbose = 0, .validation_split = 0.5}); },
                 "validation_split");
  expect_message(
      [&] {
        model.fit(batched, {.verbose = 0, .class_weight = {{0, 2.0}}});
      },
      "class_weight");
  auto wide_weights =
      data::Dataset::from_tensors({data.x, data.y, Tensor::zeros(Shape{8, 2})}).batch(4);
  expect_message([&] { model.fit(wide_weights, {.verbose = 0}); }, "sample weights");
}

}  // namespace
}  // namespace trainyard::keras
