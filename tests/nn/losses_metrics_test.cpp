#include <gtest/gtest.h>

#include "nn/losses.h"
#include "nn/metrics.h"

namespace trainyard::nn {
namespace {

using backend::LossKind;
using backend::MetricKind;

TEST(LossFunctionTest, ResolvesNamesAndCrossentropyByShapes) {
  EXPECT_EQ(LossFunction("mse").resolve({4, 3}, {4, 3}).kind, LossKind::kMeanSquaredError);
  EXPECT_EQ(LossFunction("mae").resolve({4, 3}, {4, 3}).kind, LossKind::kMeanAbsoluteError);
  EXPECT_EQ(LossFunction("crossentropy").resolve({4, 1}, {4, 1}).kind,
            LossKind::kBinaryCrossentropy);
  EXPECT_EQ(LossFunction("crossentropy").resolve({4, 10}, {4}).kind,
            LossKind::kSparseCategoricalCrossentropy);
  EXPECT_EQ(LossFunction("crossentropy").resolve({4, 10}, {4, 1}).kind,
            LossKind::kSparseCategoricalCrossentropy);
  EXPECT_EQ(LossFunction("crossentropy").resolve({4, 10}, {4, 10}).kind,
            LossKind::kCategoricalCrossentropy);
  auto loss = losses::SparseCategoricalCrossentropy({.from_logits = true}).resolve({2, 10}, {2});
  EXPECT_TRUE(loss.from_logits);
}

TEST(LossFunctionTest, ErrorsNameTheProblem) {
  EXPECT_THROW(LossFunction("hinge_loss").resolve({1, 2}, {1, 2}), ValueError);
  try {
    LossFunction("categorical_crossentropy").resolve({32, 10}, {32});
    FAIL();
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("sparse_categorical_crossentropy"), std::string::npos);
  }
  EXPECT_THROW(losses::BinaryCrossentropy({.label_smoothing = 2}).resolve({1, 1}, {1, 1}),
               ValueError);
}

TEST(MetricTest, AccuracyResolvesLikeKeras) {
  auto& backend = backend::cpu_backend();
  EXPECT_EQ(Metric("accuracy", {1, 1}, {1, 1}, backend).kernel().kind, MetricKind::kBinaryAccuracy);
  EXPECT_EQ(Metric("accuracy", {1, 10}, {1}, backend).kernel().kind,
            MetricKind::kSparseCategoricalAccuracy);
  EXPECT_EQ(Metric("acc", {1, 10}, {1, 1}, backend).kernel().kind,
            MetricKind::kSparseCategoricalAccuracy);
  EXPECT_EQ(Metric("accuracy", {1, 10}, {1, 10}, backend).kernel().kind,
            MetricKind::kCategoricalAccuracy);
  EXPECT_EQ(Metric("acc", {1, 10}, {1}, backend).name(), "acc");
  EXPECT_THROW(Metric("f1", {1, 2}, {1, 2}, backend), ValueError);
}

TEST(MetricTest, RunningMeanIsWeightedByBatchSize) {
  auto& backend = backend::cpu_backend();
  Metric metric("accuracy", {-1, 3}, {-1}, backend);
  // Batch 1: 2 of 3 right. Batch 2: 0 of 1 right. Mean over samples: 2/4.
  metric.update(backend, Tensor::from_vector<float>({3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}),
                Tensor::from_vector<float>({3}, {0, 1, 0}));
  EXPECT_DOUBLE_EQ(metric.result(), 2.0 / 3.0);
  metric.update(backend, Tensor::from_vector<float>({1, 3}, {0, 1, 0}),
                Tensor::from_vector<float>({1}, {2}));
  EXPECT_DOUBLE_EQ(metric.result(), 0.5);
  metric.reset();
  EXPECT_DOUBLE_EQ(metric.result(), 0.0);

  MeanTracker tracker(backend);
  tracker.update(backend, Tensor::from_vector<float>({1}, {2.0f}), 32);
  tracker.update(backend, Tensor::from_vector<float>({1}, {5.0f}), 16);
  EXPECT_DOUBLE_EQ(tracker.result(), (2.0 * 32 + 5.0 * 16) / 48);
}

}  // namespace
}  // namespace trainyard::nn
