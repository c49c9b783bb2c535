// Losses against long-double references written from keras-semantics.md section 2:
// per-row definitions, Keras's clipping to [1e-7, 1 - 1e-7] in the predictions' dtype,
// categorical renormalisation, label smoothing and the sum_over_batch_size reduction.
// Gradients are compared with central differences of the same long-double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::Loss;
using backend::LossKind;

const char* kind_name(LossKind kind) {
  switch (kind) {
    case LossKind::kMeanSquaredError:
      return "mean_squared_error";
    case LossKind::kMeanAbsoluteError:
      return "mean_absolute_error";
    case LossKind::kBinaryCrossentropy:
      return "binary_crossentropy";
    case LossKind::kCategoricalCrossentropy:
      return "categorical_crossentropy";
    case LossKind::kSparseCategoricalCrossentropy:
      return "sparse_categorical_crossentropy";
  }
  return "?";
}

std::string describe(const Loss& loss, const Shape& shape, bool weighted) {
  return std::string(kind_name(loss.kind)) + (loss.from_logits ? " from logits" : "") +
         " smoothing " + std::to_string(loss.label_smoothing) + " on " + shape.to_string() +
         (weighted ? " weighted" : "");
}

// The problem a reference sees: everything already rounded to the kernel's dtype.
struct Problem {
  std::vector<Real> pred;
  std::vector<Real> truth;      // dense targets
  std::vector<int64_t> labels;  // sparse targets
  std::vector<Real> weights;    // empty: all ones
  int64_t rows = 0;
  int64_t columns = 0;
  Real clip_low = 0;   // 1e-7 in the predictions' dtype
  Real clip_high = 0;  // 1 - 1e-7 in the predictions' dtype
};

// One row's loss, straight from section 2.1.
Real reference_row(const Loss& loss, const Problem& problem, int64_t r) {
  const int64_t c = problem.columns;
  const Real* p = problem.pred.data() + r * c;
  const Real* y = problem.truth.empty() ? nullptr : problem.truth.data() + r * c;
  Real ls = static_cast<Real>(loss.label_smoothing);
  auto clip = [&](Real value) {
    return std::fmin(std::fmax(value, problem.clip_low), problem.clip_high);
  };
  Real total = 0;
  switch (loss.kind) {
    case LossKind::kMeanSquaredError:
      for (int64_t j = 0; j < c; ++j) total += (y[j] - p[j]) * (y[j] - p[j]);
      return total / c;
    case LossKind::kMeanAbsoluteError:
      for (int64_t j = 0; j < c; ++j) total += std::fabs(y[j] - p[j]);
      return total / c;
    case LossKind::kBinaryCrossentropy:
      for (int64_t j = 0; j < c; ++j) {
        Real t = y[j] * (1 - ls) + 0.5L * ls;
        if (loss.from_logits) {
          Real x = p[j];
          total += std::fmax(x, 0.0L) - x * t + std::log1p(std::exp(-std::fabs(x)));
        } else {
          Real q = clip(p[j]);
          total += -(t * std::log(q) + (1 - t) * std::log(1 - q));
        }
      }
      return total / c;
    case LossKind::kCategoricalCrossentropy: {
      Real sum = 0, log_sum = 0;
      for (int64_t j = 0; j < c; ++j) sum += p[j];
      for (int64_t j = 0; j < c; ++j) log_sum += std::exp(p[j]);
      log_sum = std::log(log_sum);
      for (int64_t j = 0; j < c; ++j) {
        Real t = y[j] * (1 - ls) + ls / c;
        // logits: log-softmax; probabilities: renormalise to sum 1, then clip.
        Real log_q = loss.from_logits ? p[j] - log_sum : std::log(clip(p[j] / sum));
        total -= t * log_q;
      }
      return total;
    }
    case LossKind::kSparseCategoricalCrossentropy: {
      int64_t k = problem.labels[static_cast<size_t>(r)];
      // Probabilities become logits log(clip(p)); then the softmax cross-entropy.
      Real sum = 0;
      for (int64_t j = 0; j < c; ++j) {
        sum += std::exp(loss.from_logits ? p[j] : std::log(clip(p[j])));
      }
      Real logit_k = loss.from_logits ? p[k] : std::log(clip(p[k]));
      return std::log(sum) - logit_k;
    }
  }
  return 0;
}

// sum_over_batch_size: sum of weighted row losses over the number of rows (not over the
// sum of weights, so zero weights still count in the denominator).
Real reference_loss(const Loss& loss, const Problem& problem) {
  Real total = 0;
  for (int64_t r = 0; r < problem.rows; ++r) {
    Real weight = problem.weights.empty() ? 1 : problem.weights[static_cast<size_t>(r)];
    total += weight * reference_row(loss, problem, r);
  }
  return total / problem.rows;
}

// d loss / d pred by central differences of the long-double reference.
std::vector<Real> reference_gradient(const Loss& loss, Problem problem) {
  std::vector<Real> gradient(problem.pred.size());
  for (size_t i = 0; i < problem.pred.size(); ++i) {
    Real original = problem.pred[i];
    Real h = 1e-8L * std::fmax(1.0L, std::fabs(original));
    problem.pred[i] = original + h;
    Real plus = reference_loss(loss, problem);
    problem.pred[i] = original - h;
    Real minus = reference_loss(loss, problem);
    problem.pred[i] = original;
    gradient[i] = (plus - minus) / (2 * h);
  }
  return gradient;
}

template <typename T>
struct LossData {
  Tensor y_pred;
  Tensor y_true;
  Tensor weights;  // undefined when unweighted
  Problem problem;
};

// Predictions, targets and weights for one case, kept away from the clip bounds and the
// MAE kink so the finite differences are valid.
template <typename T>
LossData<T> make_data(const Loss& loss, const Shape& shape, bool weighted, uint64_t seed) {
  const int64_t columns = shape[-1];
  const int64_t rows = shape.num_elements() / columns;
  const int64_t n = shape.num_elements();
  std::vector<double> pred, truth;
  switch (loss.kind) {
    case LossKind::kMeanSquaredError:
    case LossKind::kMeanAbsoluteError:
      pred = sample_values(n, seed, -2, 2);
      truth = sample_values(n, seed + 1, -2, 2);
      break;
    case LossKind::kBinaryCrossentropy: {
      pred = loss.from_logits ? sample_values(n, seed, -4, 4) : sample_values(n, seed, 0.02, 0.98);
      // Hard labels and soft ones.
      std::vector<double> soft = sample_values(n, seed + 1, 0, 1);
      for (int64_t i = 0; i < n; ++i) {
        truth.push_back(i % 3 == 0 ? 0.0 : (i % 3 == 1 ? 1.0 : soft[static_cast<size_t>(i)]));
      }
      break;
    }
    case LossKind::kCategoricalCrossentropy:
    case LossKind::kSparseCategoricalCrossentropy: {
      // Probabilities that do not sum to 1, so renormalisation matters.
      pred = loss.from_logits ? sample_values(n, seed, -4, 4) : sample_values(n, seed, 0.05, 0.9);
      std::vector<double> soft = sample_values(n, seed + 1, 0.1, 1);
      for (int64_t r = 0; r < rows; ++r) {
        double row_sum = 0;
        for (int64_t j = 0; j < columns; ++j) row_sum += soft[static_cast<size_t>(r * columns + j)];
        for (int64_t j = 0; j < columns; ++j) {
          // One-hot rows, distributions, and rows that do not sum to 1 (multi-hot-like),
          // where the from-logits gradient is softmax * sum(targets) - targets.
          double soft_value = soft[static_cast<size_t>(r * columns + j)];
          truth.push_back(r % 3 == 0   ? (j == (r * 7 + 3) % columns ? 1.0 : 0.0)
                          : r % 3 == 1 ? soft_value / row_sum
                                       : soft_value);
        }
      }
      break;
    }
  }
  LossData<T> data;
  data.y_pred = tensor_of<T>(shape, pred);
  data.problem.pred = reals_of(data.y_pred);
  data.problem.rows = rows;
  data.problem.columns = columns;
  data.problem.clip_low = static_cast<Real>(static_cast<T>(1e-7));
  data.problem.clip_high = static_cast<Real>(static_cast<T>(1.0 - 1e-7));
  Shape row_shape(std::vector<int64_t>(shape.dims().begin(), shape.dims().end() - 1));
  if (loss.kind == LossKind::kSparseCategoricalCrossentropy) {
    std::vector<int64_t> labels;
    for (int64_t r = 0; r < rows; ++r) labels.push_back((r * 7 + 3) % columns);
    data.y_true = Tensor::from_vector<int64_t>(row_shape, labels);
    data.problem.labels = labels;
  } else {
    data.y_true = tensor_of<T>(shape, truth);
    data.problem.truth = reals_of(data.y_true);
  }
  if (weighted) {
    std::vector<double> weights = sample_values(rows, seed + 2, 0, 2);
    weights[1] = 0;  // a zero weight still counts in the denominator
    data.weights = tensor_of<T>(row_shape, weights);
    data.problem.weights = reals_of(data.weights);
  }
  return data;
}

template <typename T>
double run_forward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                   const Tensor& weights) {
  Tensor value = Tensor::zeros(Shape{}, dtype_of<T>());
  cpu().loss_forward(loss, y_pred, y_true, weights, value);
  return value.item(0);
}

// Every loss in every variant section 2 describes.
std::vector<Loss> all_losses() {
  std::vector<Loss> losses;
  for (LossKind kind : {LossKind::kMeanSquaredError, LossKind::kMeanAbsoluteError}) {
    losses.push_back({kind});
  }
  for (LossKind kind : {LossKind::kBinaryCrossentropy, LossKind::kCategoricalCrossentropy}) {
    for (bool from_logits : {false, true}) {
      for (double smoothing : {0.0, 0.1}) losses.push_back({kind, from_logits, smoothing});
    }
  }
  for (bool from_logits : {false, true}) {
    losses.push_back({LossKind::kSparseCategoricalCrossentropy, from_logits});
  }
  return losses;
}

template <typename T>
class LossTest : public ::testing::Test {};
TYPED_TEST_SUITE(LossTest, FloatTypes);

TYPED_TEST(LossTest, ValuesAndGradientsMatchReferenceForEveryVariant) {
  using T = TypeParam;
  const bool is_float = std::is_same_v<T, float>;
  const double value_tolerance = is_float ? 1e-5 : 1e-12;
  const double gradient_tolerance = is_float ? 2e-5 : 1e-8;
  uint64_t seed = 100;
  for (const Loss& loss : all_losses()) {
    for (const Shape& shape : {Shape{5, 3}, Shape{2, 3, 4}}) {
      for (bool weighted : {false, true}) {
        std::string what = describe(loss, shape, weighted);
        auto data = make_data<T>(loss, shape, weighted, ++seed);
        double got = run_forward<T>(loss, data.y_pred, data.y_true, data.weights);
        EXPECT_TRUE(
            near_reference<T>(got, reference_loss(loss, data.problem), value_tolerance, what));

        // y_pred_grad (+)= d loss / d y_pred * loss_grad.
        const double upstream = 0.75;
        std::vector<Real> expected = reference_gradient(loss, data.problem);
        Real largest = 0;
        for (Real value : expected) largest = std::fmax(largest, std::fabs(value));
        for (bool accumulate : {false, true}) {
          Tensor grad = tensor_of<T>(shape, std::vector<double>(shape.num_elements(), 0.5));
          cpu().loss_backward(loss, data.y_pred, data.y_true, data.weights,
                              tensor_of<T>(Shape{}, {upstream}), grad, accumulate);
          for (int64_t i = 0; i < shape.num_elements(); ++i) {
            Real reference = expected[static_cast<size_t>(i)] * static_cast<Real>(upstream) +
                             (accumulate ? 0.5L : 0.0L);
            Real error = std::fabs(static_cast<Real>(grad.item(i)) - reference);
            EXPECT_LE(error, gradient_tolerance * (std::fabs(reference) + largest))
                << what << (accumulate ? " accumulating" : "") << ": gradient element " << i
                << " got " << grad.item(i) << ", reference " << double(reference);
          }
        }
      }
    }
  }
}

// Logits of +-100 overflow exp in float32 and double unless the kernels stay stable.
TYPED_TEST(LossTest, LargeLogitsStayFinite) {
  using T = TypeParam;
  std::vector<double> logits = {-100, 100, 30, -30, 0, 100, 100, -100, -100};
  Shape shape{3, 3};
  Tensor y_pred = tensor_of<T>(shape, logits);
  Tensor one_hot = tensor_of<T>(shape, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  Tensor labels = Tensor::from_vector<int32_t>(Shape{3}, {0, 1, 2});
  Problem problem;
  problem.pred = reals_of(y_pred);
  problem.truth = reals_of(one_hot);
  problem.labels = {0, 1, 2};
  problem.rows = 3;
  problem.columns = 3;
  for (const Loss& loss :
       {Loss{LossKind::kBinaryCrossentropy, true}, Loss{LossKind::kBinaryCrossentropy, true, 0.2},
        Loss{LossKind::kCategoricalCrossentropy, true},
        Loss{LossKind::kCategoricalCrossentropy, true, 0.2},
        Loss{LossKind::kSparseCategoricalCrossentropy, true}}) {
    std::string what = describe(loss, shape, false);
    const Tensor& truth = loss.kind == LossKind::kSparseCategoricalCrossentropy ? labels : one_hot;
    double got = run_forward<T>(loss, y_pred, truth, Tensor());
    EXPECT_TRUE(near_reference<T>(got, reference_loss(loss, problem),
                                  std::is_same_v<T, float> ? 1e-6 : 1e-13, what));
    Tensor grad = Tensor::zeros(shape, dtype_of<T>());
    cpu().loss_backward(loss, y_pred, truth, Tensor(), tensor_of<T>(Shape{}, {1.0}), grad, false);
    for (int64_t i = 0; i < 9; ++i) {
      EXPECT_TRUE(std::isfinite(grad.item(i))) << what << " gradient " << i;
      EXPECT_LE(std::fabs(grad.item(i)), 1.0) << what << " gradient " << i;
    }
  }
}

// Values worked out by hand.
TYPED_TEST(LossTest, HandWorkedValues) {
  using T = TypeParam;
  const bool is_float = std::is_same_v<T, float>;
  const double tolerance = is_float ? 2e-6 : 1e-14;
  auto value = [&](const Loss& loss, const Shape& shape, const std::vector<double>& pred,
                   const Tensor& truth, const Tensor& weights = Tensor()) {
    return run_forward<T>(loss, tensor_of<T>(shape, pred), truth, weights);
  };
  // SCCE from logits [1, 2, 3] with label 2: log(e + e^2 + e^3) - 3
  //   = log(2.718281828 + 7.389056099 + 20.085536923) - 3 = log(30.192874850) - 3
  //   = 0.40760596444438013.
  EXPECT_NEAR(value({LossKind::kSparseCategoricalCrossentropy, true}, Shape{1, 3}, {1, 2, 3},
                    Tensor::from_vector<int64_t>(Shape{1}, {2})),
              0.40760596444438013, tolerance);
  // MSE of [[1, 2], [3, 4]] against zeros: rows (1 + 4) / 2 = 2.5 and (9 + 16) / 2 = 12.5.
  // Weights [1, 0]: (2.5 * 1 + 12.5 * 0) / 2 rows = 1.25 (not / sum of weights = 2.5).
  Tensor zeros = tensor_of<T>(Shape{2, 2}, {0, 0, 0, 0});
  EXPECT_NEAR(value({LossKind::kMeanSquaredError}, Shape{2, 2}, {1, 2, 3, 4}, zeros), 7.5,
              tolerance);
  EXPECT_NEAR(value({LossKind::kMeanSquaredError}, Shape{2, 2}, {1, 2, 3, 4}, zeros,
                    tensor_of<T>(Shape{2}, {1, 0})),
              1.25, tolerance);
  // MAE of [[1, -2], [3, 4]] against zeros: (1.5 + 3.5) / 2 = 2.5.
  EXPECT_NEAR(value({LossKind::kMeanAbsoluteError}, Shape{2, 2}, {1, -2, 3, 4}, zeros), 2.5,
              tolerance);
  // CCE renormalises [0.2, 0.2, 0.4] (sum 0.8) to [0.25, 0.25, 0.5]: -log 0.5 = log 2.
  EXPECT_NEAR(value({LossKind::kCategoricalCrossentropy}, Shape{1, 3}, {0.2, 0.2, 0.4},
                    tensor_of<T>(Shape{1, 3}, {0, 0, 1})),
              std::numbers::ln2, tolerance);
  // CCE with label smoothing 0.3 over 3 classes: [0, 0, 1] -> [0.1, 0.1, 0.8];
  // -(0.1 log 0.25 * 2 + 0.8 log 0.5) = 0.8317766166719343.
  EXPECT_NEAR(value({LossKind::kCategoricalCrossentropy, false, 0.3}, Shape{1, 3},
                    {0.25, 0.25, 0.5}, tensor_of<T>(Shape{1, 3}, {0, 0, 1})),
              0.8317766166719343, tolerance);
  // BCE from logit 0 with target 1: log(1 + e^0) = log 2.
  EXPECT_NEAR(value({LossKind::kBinaryCrossentropy, true}, Shape{1, 1}, {0},
                    tensor_of<T>(Shape{1, 1}, {1})),
              std::numbers::ln2, tolerance);
  // BCE with label smoothing 0.2: target 1 -> 1 * 0.8 + 0.5 * 0.2 = 0.9; at p = 0.9,
  // -(0.9 log 0.9 + 0.1 log 0.1) = 0.3250829733914482.
  EXPECT_NEAR(value({LossKind::kBinaryCrossentropy, false, 0.2}, Shape{1, 1}, {0.9},
                    tensor_of<T>(Shape{1, 1}, {1})),
              0.3250829733914482, tolerance);
}

// A probability of exactly 0 or 1 is clipped to [1e-7, 1 - 1e-7] in the predictions' dtype,
// as Keras's clip_by_value does, giving a large finite loss and no gradient.
TYPED_TEST(LossTest, ClippingGivesKerasFiniteValuesAndNoGradient) {
  using T = TypeParam;
  const bool is_float = std::is_same_v<T, float>;
  const double tolerance = is_float ? 2e-6 : 1e-12;
  Loss bce{LossKind::kBinaryCrossentropy};
  // p = 0 with target 1: -log(1e-7) = 7 log 10 = 16.11809565095832 (float32 rounds 1e-7 to
  // 1.0000000117e-7, giving 16.118095639272223).
  double p0 =
      run_forward<T>(bce, tensor_of<T>(Shape{1, 1}, {0}), tensor_of<T>(Shape{1, 1}, {1}), Tensor());
  EXPECT_NEAR(p0, is_float ? 16.118095639272223 : 16.11809565095832, tolerance);
  // p = 1 with target 0: -log(1 - clip_high). In float32, 1 - 1e-7 rounds to 1 - 2^-23, so
  // the loss is 23 log 2 = 15.942385152878742; in float64 1 - (1 - 1e-7) = 9.99999999474e-8,
  // giving 16.118095651484676.
  double p1 =
      run_forward<T>(bce, tensor_of<T>(Shape{1, 1}, {1}), tensor_of<T>(Shape{1, 1}, {0}), Tensor());
  EXPECT_NEAR(p1, is_float ? 15.942385152878742 : 16.118095651484676, tolerance);
  // Correct certainties lose almost nothing: -log(1 - 1e-7) ~ 1e-7.
  double right = run_forward<T>(bce, tensor_of<T>(Shape{1, 2}, {0, 1}),
                                tensor_of<T>(Shape{1, 2}, {0, 1}), Tensor());
  EXPECT_LT(right, 2e-7);
  EXPECT_GT(right, 0);

  Tensor grad = Tensor::zeros(Shape{1, 2}, dtype_of<T>());
  cpu().loss_backward(bce, tensor_of<T>(Shape{1, 2}, {0, 1}), tensor_of<T>(Shape{1, 2}, {1, 0}),
                      Tensor(), tensor_of<T>(Shape{}, {1}), grad, false);
  EXPECT_EQ(grad.item(0), 0.0);
  EXPECT_EQ(grad.item(1), 0.0);

  // CCE with a zero probability on the true class: the renormalised 0 clips to 1e-7.
  double cce =
      run_forward<T>({LossKind::kCategoricalCrossentropy}, tensor_of<T>(Shape{1, 3}, {0, 0.5, 0.5}),
                     tensor_of<T>(Shape{1, 3}, {1, 0, 0}), Tensor());
  EXPECT_NEAR(cce, is_float ? 16.118095639272223 : 16.11809565095832, tolerance);
  // SCCE with p = [0, 1] and label 0: logits log(clip(p)) = [log 1e-7, log(1 - 1e-7)];
  // loss = log(1e-7 + (1 - 1e-7)) - log 1e-7, which is -log 1e-7 up to rounding.
  double scce =
      run_forward<T>({LossKind::kSparseCategoricalCrossentropy}, tensor_of<T>(Shape{1, 2}, {0, 1}),
                     Tensor::from_vector<int64_t>(Shape{1}, {0}), Tensor());
  Problem problem;
  problem.pred = {0, 1};
  problem.labels = {0};
  problem.rows = 1;
  problem.columns = 2;
  problem.clip_low = static_cast<Real>(static_cast<T>(1e-7));
  problem.clip_high = static_cast<Real>(static_cast<T>(1.0 - 1e-7));
  EXPECT_NEAR(
      scce,
      static_cast<double>(reference_loss({LossKind::kSparseCategoricalCrossentropy}, problem)),
      tolerance);
  EXPECT_NEAR(scce, 16.118, 1e-3);

  // Clipped entries pass no gradient (TensorFlow's clip_by_value rule), and entries whose
  // target is 0 contribute nothing either, so these gradients are exactly zero, not inf.
  Tensor cce_grad = Tensor::zeros(Shape{1, 3}, dtype_of<T>());
  cpu().loss_backward(
      {LossKind::kCategoricalCrossentropy}, tensor_of<T>(Shape{1, 3}, {0, 0.5, 0.5}),
      tensor_of<T>(Shape{1, 3}, {1, 0, 0}), Tensor(), tensor_of<T>(Shape{}, {1}), cce_grad, false);
  Tensor scce_grad = Tensor::zeros(Shape{1, 2}, dtype_of<T>());
  cpu().loss_backward({LossKind::kSparseCategoricalCrossentropy}, tensor_of<T>(Shape{1, 2}, {0, 1}),
                      Tensor::from_vector<int64_t>(Shape{1}, {0}), Tensor(),
                      tensor_of<T>(Shape{}, {1}), scce_grad, false);
  for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(cce_grad.item(j), 0.0) << "categorical " << j;
  for (int64_t j = 0; j < 2; ++j) EXPECT_EQ(scce_grad.item(j), 0.0) << "sparse " << j;
}

// Sparse labels may come as float, int32, int64 or uint8, shaped [B] or [B, 1].
TYPED_TEST(LossTest, SparseLabelsOfEveryDtypeAgree) {
  using T = TypeParam;
  Shape shape{4, 3};
  std::vector<double> pred = sample_values(12, 5, 0.05, 0.9);
  std::vector<int64_t> labels = {2, 0, 1, 2};
  for (bool from_logits : {false, true}) {
    Loss loss{LossKind::kSparseCategoricalCrossentropy, from_logits};
    Tensor y_pred = tensor_of<T>(shape, pred);
    Problem problem;
    problem.pred = reals_of(y_pred);
    problem.labels = labels;
    problem.rows = 4;
    problem.columns = 3;
    problem.clip_low = static_cast<Real>(static_cast<T>(1e-7));
    problem.clip_high = static_cast<Real>(static_cast<T>(1.0 - 1e-7));
    Real expected = reference_loss(loss, problem);
    std::vector<Tensor> encodings = {
        Tensor::from_vector<float>(Shape{4}, {2, 0, 1, 2}),
        Tensor::from_vector<double>(Shape{4, 1}, {2, 0, 1, 2}),
        Tensor::from_vector<int32_t>(Shape{4}, {2, 0, 1, 2}),
        Tensor::from_vector<int64_t>(Shape{4, 1}, {2, 0, 1, 2}),
        Tensor::from_vector<uint8_t>(Shape{4}, {2, 0, 1, 2}),
    };
    Tensor first_grad;
    for (const Tensor& encoded : encodings) {
      std::string what = describe(loss, shape, false) + " with labels " + encoded.to_string();
      EXPECT_TRUE(near_reference<T>(run_forward<T>(loss, y_pred, encoded, Tensor()), expected,
                                    std::is_same_v<T, float> ? 1e-6 : 1e-13, what));
      Tensor grad = Tensor::zeros(shape, dtype_of<T>());
      cpu().loss_backward(loss, y_pred, encoded, Tensor(), tensor_of<T>(Shape{}, {1}), grad, false);
      if (!first_grad.defined()) {
        first_grad = grad;
      } else {
        EXPECT_TRUE(bitwise_equal(grad, first_grad)) << what;
      }
    }
  }
}

// A label that is not a class index is a ValueError naming the label and its row, from
// forward and backward alike, never a read past the row.
TEST(LossErrorTest, OutOfRangeSparseLabelsNameTheLabel) {
  Tensor y_pred = tensor_of<float>(Shape{2, 10}, std::vector<double>(20, 0.1));
  Tensor grad = Tensor::zeros(Shape{2, 10});
  Tensor one = tensor_of<float>(Shape{}, {1});
  struct BadLabels {
    Tensor labels;
    std::string expected_text;
  };
  std::vector<BadLabels> cases = {
      {Tensor::from_vector<int32_t>(Shape{2}, {3, 10}), "label 10"},
      {Tensor::from_vector<int64_t>(Shape{2}, {-1, 3}), "label -1"},
      {Tensor::from_vector<float>(Shape{2}, {1, 2.5f}), "label 2.5"},
      {Tensor::from_vector<uint8_t>(Shape{2}, {255, 0}), "label 255"},
      {Tensor::from_vector<float>(Shape{2}, {1, std::nanf("")}), "label"},
  };
  for (bool from_logits : {false, true}) {
    Loss loss{LossKind::kSparseCategoricalCrossentropy, from_logits};
    for (const BadLabels& bad : cases) {
      Tensor value = Tensor::zeros(Shape{});
      try {
        cpu().loss_forward(loss, y_pred, bad.labels, Tensor(), value);
        ADD_FAILURE() << "forward accepted " << bad.expected_text;
      } catch (const ValueError& error) {
        std::string message = error.what();
        EXPECT_NE(message.find(bad.expected_text), std::string::npos) << message;
        EXPECT_NE(message.find("sparse_categorical_crossentropy"), std::string::npos) << message;
        EXPECT_NE(message.find("[0, 10)"), std::string::npos) << message;
      }
      try {
        cpu().loss_backward(loss, y_pred, bad.labels, Tensor(), one, grad, false);
        ADD_FAILURE() << "backward accepted " << bad.expected_text;
      } catch (const ValueError& error) {
        EXPECT_NE(std::string(error.what()).find(bad.expected_text), std::string::npos)
            << error.what();
      }
    }
  }
}

TEST(LossErrorTest, ShapeMismatchesNameTheLossAndTheField) {
  Tensor y_pred = Tensor::zeros(Shape{4, 3});
  Tensor value = Tensor::zeros(Shape{});
  auto message_of = [&](const Loss& loss, const Tensor& y_true, const Tensor& weights) {
    try {
      cpu().loss_forward(loss, y_pred, y_true, weights, value);
    } catch (const ShapeError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  std::string targets =
      message_of({LossKind::kMeanSquaredError}, Tensor::zeros(Shape{4, 2}), Tensor());
  EXPECT_NE(targets.find("mean_squared_error"), std::string::npos) << targets;
  EXPECT_NE(targets.find("[4, 2]"), std::string::npos) << targets;
  std::string dtype = message_of({LossKind::kBinaryCrossentropy},
                                 Tensor::zeros(Shape{4, 3}, DType::kFloat64), Tensor());
  EXPECT_NE(dtype.find("binary_crossentropy"), std::string::npos) << dtype;
  std::string labels = message_of({LossKind::kSparseCategoricalCrossentropy},
                                  Tensor::zeros(Shape{3}, DType::kInt32), Tensor());
  EXPECT_NE(labels.find("sparse_categorical_crossentropy"), std::string::npos) << labels;
  std::string weights = message_of({LossKind::kCategoricalCrossentropy}, Tensor::zeros(Shape{4, 3}),
                                   Tensor::zeros(Shape{3}));
  EXPECT_NE(weights.find("sample_weight"), std::string::npos) << weights;
}

}  // namespace
}  // namespace trainyard::backend_test
