// Metric updates (keras-semantics.md section 4): per-row values accumulated as (total,
// count) so that two batches of different sizes give the sample-weighted running mean.
#include <gtest/gtest.h>

#include <cmath>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::Metric;
using backend::MetricKind;

Tensor fresh_state() {
  return Tensor::zeros(Shape{2}, DType::kFloat64);
}

double result(const Tensor& state) {
  return state.item(1) == 0 ? 0.0 : state.item(0) / state.item(1);
}

template <typename T>
class MetricTest : public ::testing::Test {};
TYPED_TEST_SUITE(MetricTest, FloatTypes);

// binary_accuracy: y_pred > threshold (strict) compared with y_true, mean over the last axis.
TYPED_TEST(MetricTest, BinaryAccuracyIsStrictAtTheThreshold) {
  using T = TypeParam;
  Tensor state = fresh_state();
  // Row by row: 0.5 is class 0 (matches 0), 0.5000001 is class 1, 0.9 vs 0 misses,
  // 0.1 vs 0 matches.
  cpu().metric_update({MetricKind::kBinaryAccuracy},
                      tensor_of<T>(Shape{4, 1}, {0.5, 0.51, 0.9, 0.1}),
                      tensor_of<T>(Shape{4, 1}, {0, 1, 0, 0}), state);
  EXPECT_EQ(state.item(0), 3.0);
  EXPECT_EQ(state.item(1), 4.0);
  // Exactly 0.5 against label 1 is a miss.
  Tensor miss = fresh_state();
  cpu().metric_update({MetricKind::kBinaryAccuracy}, tensor_of<T>(Shape{1, 1}, {0.5}),
                      tensor_of<T>(Shape{1, 1}, {1}), miss);
  EXPECT_EQ(miss.item(0), 0.0);
  // A custom threshold of 0.7: 0.7 is class 0, 0.71 class 1. Two columns per row: the row
  // value is the fraction of matching columns.
  Tensor custom = fresh_state();
  cpu().metric_update({MetricKind::kBinaryAccuracy, 0.7},
                      tensor_of<T>(Shape{2, 2}, {0.7, 0.71, 0.6, 0.2}),
                      tensor_of<T>(Shape{2, 2}, {0, 0, 0, 1}), custom);
  // Row 0: (0.7 -> 0) == 0 yes, (0.71 -> 1) == 0 no: 0.5. Row 1: yes, no: 0.5.
  EXPECT_DOUBLE_EQ(custom.item(0), 1.0);
  EXPECT_EQ(custom.item(1), 2.0);
}

// argmax ties go to the first index, for predictions and for one-hot-like targets.
TYPED_TEST(MetricTest, ArgmaxTiesGoToTheFirstIndex) {
  using T = TypeParam;
  Tensor pred = tensor_of<T>(Shape{3, 3}, {0.3, 0.3, 0.1, 0.2, 0.4, 0.4, 0.5, 0.5, 0.5});
  Tensor sparse = fresh_state();
  cpu().metric_update({MetricKind::kSparseCategoricalAccuracy}, pred,
                      Tensor::from_vector<int32_t>(Shape{3}, {0, 2, 0}), sparse);
  // Row 0 argmax 0 == 0; row 1 argmax 1 != 2; row 2 argmax 0 == 0.
  EXPECT_EQ(sparse.item(0), 2.0);
  EXPECT_EQ(sparse.item(1), 3.0);
  Tensor categorical = fresh_state();
  cpu().metric_update({MetricKind::kCategoricalAccuracy}, pred,
                      tensor_of<T>(Shape{3, 3}, {0, 1, 0, 0, 1, 1, 1, 1, 0}), categorical);
  // Row 0: 0 vs 1 miss; row 1: 1 vs first of the tied targets, 1: hit; row 2: 0 vs 0 hit.
  EXPECT_EQ(categorical.item(0), 2.0);
}

// Two updates of 5 and 3 rows: the result is the mean over all 8 rows, not the mean of
// the two batch means.
TYPED_TEST(MetricTest, TwoBatchesGiveTheSampleWeightedRunningMean) {
  using T = TypeParam;
  const int64_t classes = 4;
  for (MetricKind kind : {MetricKind::kSparseCategoricalAccuracy, MetricKind::kCategoricalAccuracy,
                          MetricKind::kBinaryAccuracy, MetricKind::kMeanSquaredError,
                          MetricKind::kMeanAbsoluteError}) {
    Tensor state = fresh_state();
    Real total = 0;
    int64_t rows_seen = 0;
    uint64_t seed = 40;
    for (int64_t rows : {5, 3}) {
      std::vector<double> pred = sample_values(rows * classes, ++seed, 0, 1);
      std::vector<double> truth = sample_values(rows * classes, ++seed, 0, 1);
      std::vector<int64_t> labels;
      for (int64_t r = 0; r < rows; ++r) labels.push_back((r * 3 + rows) % classes);
      if (kind == MetricKind::kCategoricalAccuracy) {
        for (int64_t i = 0; i < rows * classes; ++i) {
          truth[static_cast<size_t>(i)] = i % classes == labels[static_cast<size_t>(i / classes)];
        }
      }
      if (kind == MetricKind::kBinaryAccuracy) {
        for (double& value : truth) value = value > 0.4 ? 1 : 0;
      }
      Tensor y_pred = tensor_of<T>(Shape{rows, classes}, pred);
      Tensor y_true = kind == MetricKind::kSparseCategoricalAccuracy
                          ? Tensor::from_vector<int64_t>(Shape{rows}, labels)
                          : tensor_of<T>(Shape{rows, classes}, truth);
      cpu().metric_update({kind}, y_pred, y_true, state);

      std::vector<Real> p = reals_of(y_pred);
      std::vector<Real> y =
          kind == MetricKind::kSparseCategoricalAccuracy ? std::vector<Real>() : reals_of(y_true);
      for (int64_t r = 0; r < rows; ++r) {
        auto first_max = [&](const std::vector<Real>& v) {
          int64_t best = 0;
          for (int64_t j = 1; j < classes; ++j) {
            if (v[r * classes + j] > v[r * classes + best]) best = j;
          }
          return best;
        };
        Real value = 0;
        switch (kind) {
          case MetricKind::kSparseCategoricalAccuracy:
            value = first_max(p) == labels[static_cast<size_t>(r)];
            break;
          case MetricKind::kCategoricalAccuracy:
            value = first_max(p) == first_max(y);
            break;
          case MetricKind::kBinaryAccuracy:
          case MetricKind::kMeanSquaredError:
          case MetricKind::kMeanAbsoluteError:
            for (int64_t j = 0; j < classes; ++j) {
              Real pj = p[r * classes + j], yj = y[r * classes + j];
              if (kind == MetricKind::kBinaryAccuracy) value += (pj > 0.5L ? 1 : 0) == yj;
              if (kind == MetricKind::kMeanSquaredError) value += (pj - yj) * (pj - yj);
              if (kind == MetricKind::kMeanAbsoluteError) value += std::fabs(pj - yj);
            }
            value /= classes;
            break;
        }
        total += value;
      }
      rows_seen += rows;
    }
    EXPECT_EQ(state.item(1), 8.0) << static_cast<int>(kind);
    EXPECT_NEAR(result(state), static_cast<double>(total / rows_seen), 1e-12)
        << "metric kind " << static_cast<int>(kind);
  }
}

// The 5-row and 3-row accuracies 4/5 and 1/3 average to 5/8, not (4/5 + 1/3) / 2.
TEST(MetricAggregationTest, HandWorkedRunningMean) {
  Tensor state = fresh_state();
  cpu().metric_update({MetricKind::kSparseCategoricalAccuracy},
                      tensor_of<float>(Shape{5, 2}, {1, 0, 1, 0, 1, 0, 1, 0, 0, 1}),
                      Tensor::from_vector<uint8_t>(Shape{5, 1}, {0, 0, 0, 0, 0}), state);
  cpu().metric_update({MetricKind::kSparseCategoricalAccuracy},
                      tensor_of<float>(Shape{3, 2}, {1, 0, 0, 1, 0, 1}),
                      Tensor::from_vector<uint8_t>(Shape{3, 1}, {0, 0, 0}), state);
  EXPECT_DOUBLE_EQ(result(state), 5.0 / 8.0);
}

// mean_update: the epoch loss is the batch-size-weighted mean of batch losses.
TEST(MetricAggregationTest, MeanUpdateWeightsByBatchSize) {
  Tensor state = fresh_state();
  cpu().mean_update(tensor_of<float>(Shape{}, {2.0}), 32, state);
  cpu().mean_update(tensor_of<double>(Shape{}, {0.5}), 8, state);
  // (2 * 32 + 0.5 * 8) / 40 = 68 / 40 = 1.7
  EXPECT_DOUBLE_EQ(state.item(0), 68.0);
  EXPECT_DOUBLE_EQ(state.item(1), 40.0);
  EXPECT_DOUBLE_EQ(result(state), 1.7);
  EXPECT_THROW(cpu().mean_update(tensor_of<float>(Shape{}, {1}), 1, Tensor::zeros(Shape{2})),
               ShapeError);
}

TEST(MetricErrorTest, BadLabelsAndShapesAreErrors) {
  Tensor state = fresh_state();
  Tensor pred = tensor_of<float>(Shape{2, 3}, {0.1, 0.2, 0.7, 0.5, 0.3, 0.2});
  try {
    cpu().metric_update({MetricKind::kSparseCategoricalAccuracy}, pred,
                        Tensor::from_vector<int32_t>(Shape{2}, {0, 3}), state);
    FAIL() << "label 3 of 3 classes accepted";
  } catch (const ValueError& error) {
    EXPECT_NE(std::string(error.what()).find("label 3"), std::string::npos) << error.what();
  }
  EXPECT_THROW(cpu().metric_update({MetricKind::kSparseCategoricalAccuracy}, pred,
                                   Tensor::from_vector<int32_t>(Shape{3}, {0, 1, 2}), state),
               ShapeError);
  EXPECT_THROW(cpu().metric_update({MetricKind::kCategoricalAccuracy}, pred,
                                   Tensor::zeros(Shape{2, 2}), state),
               ShapeError);
  EXPECT_THROW(cpu().metric_update({MetricKind::kMeanSquaredError}, pred,
                                   Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{2})),
               ShapeError);
}

}  // namespace
}  // namespace trainyard::backend_test
