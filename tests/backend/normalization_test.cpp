// Batch and layer normalization kernels against long-double references built from the
// formulas in keras-semantics.md (1.6, 1.7), with and without gamma / beta, accumulation,
// and the same bits on one and two threads.
#include <gtest/gtest.h>

#include <cmath>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::NormGradients;

template <typename T>
class NormalizationTest : public ::testing::Test {};
TYPED_TEST_SUITE(NormalizationTest, FloatTypes);

// |got - expected| <= tolerance * (1 + |expected|): outputs are O(1) after normalizing.
template <typename T>
double norm_tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-11;
}

template <typename T>
void expect_close(const Tensor& got, const std::vector<Real>& expected, const std::string& what) {
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(expected.size())) << what;
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    Real e = expected[static_cast<size_t>(i)];
    double allowed = norm_tolerance<T>() * (1.0 + std::fabs(static_cast<double>(e)));
    EXPECT_NEAR(got.item(i), static_cast<double>(e), allowed) << what << " element " << i;
  }
}

// Column (batch) or row (layer) statistics of x [rows, columns] in long double.
struct Moments {
  std::vector<Real> mean, variance;
};

Moments column_moments(const std::vector<Real>& x, int64_t rows, int64_t columns) {
  Moments m{std::vector<Real>(columns, 0), std::vector<Real>(columns, 0)};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) m.mean[j] += x[r * columns + j];
  for (auto& v : m.mean) v /= rows;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) {
      Real d = x[r * columns + j] - m.mean[j];
      m.variance[j] += d * d;
    }
  for (auto& v : m.variance) v /= rows;
  return m;
}

TYPED_TEST(NormalizationTest, BatchNormTrainingForwardByHand) {
  using T = TypeParam;
  // Columns: {1, 3} has mean 2 and biased variance 1; {2, 6} has mean 4 and variance 4.
  Tensor x = tensor_of<T>(Shape{2, 2}, {1, 2, 3, 6});
  Tensor gamma = tensor_of<T>(Shape{2}, {2, 0.5});
  Tensor beta = tensor_of<T>(Shape{2}, {1, -1});
  Tensor moving_mean = tensor_of<T>(Shape{2}, {0, 0});
  Tensor moving_variance = tensor_of<T>(Shape{2}, {1, 1});
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().batch_norm_training_forward(x, gamma, beta, 1e-3, 0.99, moving_mean, moving_variance, y);
  Real s0 = 1 / std::sqrt(Real(1.001)), s1 = 1 / std::sqrt(Real(4.001));
  expect_close<T>(y, {2 * -1 * s0 + 1, 0.5L * -2 * s1 - 1, 2 * 1 * s0 + 1, 0.5L * 2 * s1 - 1}, "y");
  // moving = moving * 0.99 + batch * 0.01
  expect_close<T>(moving_mean, {0.02L, 0.04L}, "moving_mean");
  expect_close<T>(moving_variance, {1.0L, 1.03L}, "moving_variance");
}

// x [rows, columns] with offsets per column, so mean subtraction matters.
template <typename T>
Tensor shifted_input(int64_t rows, int64_t columns, uint64_t seed) {
  std::vector<double> values = sample_values(rows * columns, seed, -2, 2);
  for (int64_t i = 0; i < rows * columns; ++i) values[i] += 3.0 * static_cast<double>(i % columns);
  return tensor_of<T>(Shape{rows, columns}, values);
}

TYPED_TEST(NormalizationTest, BatchNormTrainingMatchesReference) {
  using T = TypeParam;
  const int64_t rows = 37, columns = 5;
  const double epsilon = 1e-3, momentum = 0.9;
  Tensor x = shifted_input<T>(rows, columns, 1);
  Tensor gamma = tensor_of<T>(Shape{columns}, sample_values(columns, 2, 0.5, 1.5));
  Tensor beta = tensor_of<T>(Shape{columns}, sample_values(columns, 3, -1, 1));
  Tensor dy = tensor_of<T>(Shape{rows, columns}, sample_values(rows * columns, 4, -1, 1));
  Tensor moving_mean = tensor_of<T>(Shape{columns}, sample_values(columns, 5, -1, 1));
  Tensor moving_variance = tensor_of<T>(Shape{columns}, sample_values(columns, 6, 0.5, 2));
  auto xs = reals_of(x), gs = reals_of(gamma), bs = reals_of(beta), dys = reals_of(dy);
  auto old_mean = reals_of(moving_mean), old_variance = reals_of(moving_variance);
  Moments m = column_moments(xs, rows, columns);

  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().batch_norm_training_forward(x, gamma, beta, epsilon, momentum, moving_mean, moving_variance,
                                    y);
  std::vector<Real> expected_y(xs.size()), xhat(xs.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      xhat[i] = (xs[i] - m.mean[j]) / std::sqrt(m.variance[j] + Real(epsilon));
      expected_y[i] = gs[j] * xhat[i] + bs[j];
    }
  expect_close<T>(y, expected_y, "y");
  std::vector<Real> expected_mean(columns), expected_variance(columns);
  for (int64_t j = 0; j < columns; ++j) {
    expected_mean[j] = old_mean[j] * Real(momentum) + m.mean[j] * Real(1 - momentum);
    expected_variance[j] = old_variance[j] * Real(momentum) + m.variance[j] * Real(1 - momentum);
  }
  expect_close<T>(moving_mean, expected_mean, "moving_mean");
  expect_close<T>(moving_variance, expected_variance, "moving_variance");

  // Backward: dbeta = sum dy, dgamma = sum dy xhat, dx from the batch-statistics chain rule.
  std::vector<Real> dbeta(columns, 0), dgamma(columns, 0), dx(xs.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) {
      dbeta[j] += dys[r * columns + j];
      dgamma[j] += dys[r * columns + j] * xhat[r * columns + j];
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      Real inv_std = 1 / std::sqrt(m.variance[j] + Real(epsilon));
      dx[i] = gs[j] * inv_std * (dys[i] - dbeta[j] / rows - xhat[i] * dgamma[j] / rows);
    }
  Tensor x_grad = Tensor::zeros(x.shape(), x.dtype());
  Tensor gamma_grad = Tensor::zeros(gamma.shape(), x.dtype());
  Tensor beta_grad = Tensor::zeros(beta.shape(), x.dtype());
  NormGradients grads{&x_grad, false, &gamma_grad, false, &beta_grad, false};
  cpu().batch_norm_training_backward(x, gamma, epsilon, dy, grads);
  expect_close<T>(x_grad, dx, "x_grad");
  expect_close<T>(gamma_grad, dgamma, "gamma_grad");
  expect_close<T>(beta_grad, dbeta, "beta_grad");

  // Accumulating doubles each gradient; a missing gradient is skipped.
  NormGradients accumulate{&x_grad, true, nullptr, false, &beta_grad, true};
  cpu().batch_norm_training_backward(x, gamma, epsilon, dy, accumulate);
  for (auto& v : dx) v *= 2;
  for (auto& v : dbeta) v *= 2;
  expect_close<T>(x_grad, dx, "accumulated x_grad");
  expect_close<T>(beta_grad, dbeta, "accumulated beta_grad");
  expect_close<T>(gamma_grad, dgamma, "untouched gamma_grad");
}

TYPED_TEST(NormalizationTest, BatchNormWithoutGammaOrBeta) {
  using T = TypeParam;
  Tensor x = tensor_of<T>(Shape{2, 2}, {1, 2, 3, 6});
  Tensor moving_mean = tensor_of<T>(Shape{2}, {0, 0});
  Tensor moving_variance = tensor_of<T>(Shape{2}, {1, 1});
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().batch_norm_training_forward(x, Tensor(), Tensor(), 1e-3, 0.99, moving_mean, moving_variance,
                                    y);
  Real s0 = 1 / std::sqrt(Real(1.001)), s1 = 1 / std::sqrt(Real(4.001));
  expect_close<T>(y, {-s0, -2 * s1, s0, 2 * s1}, "y");
  EXPECT_THROW(cpu().batch_norm_training_forward(x, tensor_of<T>(Shape{3}, {1, 1, 1}), Tensor(),
                                                 1e-3, 0.99, moving_mean, moving_variance, y),
               ShapeError);
}

TYPED_TEST(NormalizationTest, BatchNormInferenceUsesGivenStatistics) {
  using T = TypeParam;
  const int64_t rows = 6, columns = 3;
  const double epsilon = 1e-3;
  Tensor x = shifted_input<T>(rows, columns, 7);
  Tensor gamma = tensor_of<T>(Shape{columns}, {1.5, -0.5, 2});
  Tensor beta = tensor_of<T>(Shape{columns}, {0.25, 0, -1});
  Tensor mean = tensor_of<T>(Shape{columns}, {0.5, 3, 5});
  Tensor variance = tensor_of<T>(Shape{columns}, {2, 0.5, 1});
  Tensor dy = tensor_of<T>(Shape{rows, columns}, sample_values(rows * columns, 8, -1, 1));
  auto xs = reals_of(x), gs = reals_of(gamma), bs = reals_of(beta), ms = reals_of(mean),
       vs = reals_of(variance), dys = reals_of(dy);
  Tensor saved_mean = mean.clone(), saved_variance = variance.clone();

  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().batch_norm_inference_forward(x, gamma, beta, mean, variance, epsilon, y);
  std::vector<Real> expected(xs.size()), dx(xs.size()), dgamma(columns, 0), dbeta(columns, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      Real inv_std = 1 / std::sqrt(vs[j] + Real(epsilon));
      Real xhat = (xs[i] - ms[j]) * inv_std;
      expected[i] = gs[j] * xhat + bs[j];
      dx[i] = dys[i] * gs[j] * inv_std;
      dgamma[j] += dys[i] * xhat;
      dbeta[j] += dys[i];
    }
  expect_close<T>(y, expected, "y");
  EXPECT_TRUE(bitwise_equal(mean, saved_mean)) << "inference must not move the statistics";
  EXPECT_TRUE(bitwise_equal(variance, saved_variance));

  Tensor x_grad = Tensor::zeros(x.shape(), x.dtype());
  Tensor gamma_grad = Tensor::zeros(gamma.shape(), x.dtype());
  Tensor beta_grad = Tensor::zeros(beta.shape(), x.dtype());
  cpu().batch_norm_inference_backward(x, gamma, mean, variance, epsilon, dy,
                                      {&x_grad, false, &gamma_grad, false, &beta_grad, false});
  expect_close<T>(x_grad, dx, "x_grad");
  expect_close<T>(gamma_grad, dgamma, "gamma_grad");
  expect_close<T>(beta_grad, dbeta, "beta_grad");
}

TYPED_TEST(NormalizationTest, LayerNormMatchesReference) {
  using T = TypeParam;
  // Rank 3: [2, 3, 4] is 6 rows of 4, each normalized on its own.
  const int64_t rows = 6, columns = 4;
  const double epsilon = 1e-3;
  Tensor x = tensor_of<T>(Shape{2, 3, columns}, sample_values(rows * columns, 9, -3, 5));
  Tensor gamma = tensor_of<T>(Shape{columns}, {1, 2, -1, 0.5});
  Tensor beta = tensor_of<T>(Shape{columns}, {0, 1, 2, 3});
  Tensor dy = tensor_of<T>(x.shape(), sample_values(rows * columns, 10, -1, 1));
  auto xs = reals_of(x), gs = reals_of(gamma), bs = reals_of(beta), dys = reals_of(dy);
  std::vector<Real> expected(xs.size()), dx(xs.size()), dgamma(columns, 0), dbeta(columns, 0);
  for (int64_t r = 0; r < rows; ++r) {
    Real mean = 0, variance = 0;
    for (int64_t j = 0; j < columns; ++j) mean += xs[r * columns + j];
    mean /= columns;
    for (int64_t j = 0; j < columns; ++j) {
      variance += (xs[r * columns + j] - mean) * (xs[r * columns + j] - mean);
    }
    variance /= columns;
    Real inv_std = 1 / std::sqrt(variance + Real(epsilon));
    Real g_mean = 0, g_xhat_mean = 0;
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      Real xhat = (xs[i] - mean) * inv_std;
      expected[i] = xhat * gs[j] + bs[j];
      dgamma[j] += dys[i] * xhat;
      dbeta[j] += dys[i];
      g_mean += dys[i] * gs[j] / columns;
      g_xhat_mean += dys[i] * gs[j] * xhat / columns;
    }
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      Real xhat = (xs[i] - mean) * inv_std;
      dx[i] = inv_std * (dys[i] * gs[j] - g_mean - xhat * g_xhat_mean);
    }
  }
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().layer_norm_forward(x, gamma, beta, epsilon, y);
  expect_close<T>(y, expected, "y");
  Tensor x_grad = Tensor::zeros(x.shape(), x.dtype());
  Tensor gamma_grad = Tensor::zeros(gamma.shape(), x.dtype());
  Tensor beta_grad = Tensor::zeros(beta.shape(), x.dtype());
  cpu().layer_norm_backward(x, gamma, epsilon, dy,
                            {&x_grad, false, &gamma_grad, false, &beta_grad, false});
  expect_close<T>(x_grad, dx, "x_grad");
  expect_close<T>(gamma_grad, dgamma, "gamma_grad");
  expect_close<T>(beta_grad, dbeta, "beta_grad");
}

TYPED_TEST(NormalizationTest, LayerNormByHandWithoutGammaOrBeta) {
  using T = TypeParam;
  // Row {1, 3}: mean 2, variance 1 -> {-1, 1} / sqrt(1.001). Row {5, 5}: all zeros.
  Tensor x = tensor_of<T>(Shape{2, 2}, {1, 3, 5, 5});
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().layer_norm_forward(x, Tensor(), Tensor(), 1e-3, y);
  Real s = 1 / std::sqrt(Real(1.001));
  expect_close<T>(y, {-s, s, 0, 0}, "y");
}

// Large enough for several row chunks (1500 x 24 values) so both threads reduce.
TEST(NormalizationThreadingTest, SameBitsOnOneAndTwoThreadsAndRepeatedRuns) {
  const int64_t rows = 1500, columns = 24;
  Tensor x = shifted_input<float>(rows, columns, 11);
  Tensor dy = tensor_of<float>(x.shape(), sample_values(rows * columns, 12, -1, 1));
  Tensor gamma = tensor_of<float>(Shape{columns}, sample_values(columns, 13, 0.5, 1.5));
  Tensor beta = tensor_of<float>(Shape{columns}, sample_values(columns, 14, -1, 1));
  std::vector<std::vector<Tensor>> runs;
  for (int threads : {1, 1, 2, 2}) {
    ThreadCountScope scope(threads);
    std::vector<Tensor> out;
    Tensor moving_mean = Tensor::zeros(Shape{columns});
    Tensor moving_variance = Tensor::zeros(Shape{columns});
    moving_variance.fill(1);
    Tensor y = Tensor::zeros(x.shape());
    cpu().batch_norm_training_forward(x, gamma, beta, 1e-3, 0.99, moving_mean, moving_variance, y);
    Tensor x_grad = Tensor::zeros(x.shape()), gamma_grad = Tensor::zeros(Shape{columns}),
           beta_grad = Tensor::zeros(Shape{columns});
    cpu().batch_norm_training_backward(x, gamma, 1e-3, dy,
                                       {&x_grad, false, &gamma_grad, false, &beta_grad, false});
    out.insert(out.end(), {y, moving_mean, moving_variance, x_grad, gamma_grad, beta_grad});
    Tensor ln_y = Tensor::zeros(x.shape());
    cpu().layer_norm_forward(x, gamma, beta, 1e-3, ln_y);
    Tensor ln_x_grad = Tensor::zeros(x.shape()), ln_gamma_grad = Tensor::zeros(Shape{columns}),
           ln_beta_grad = Tensor::zeros(Shape{columns});
    cpu().layer_norm_backward(x, gamma, 1e-3, dy,
                              {&ln_x_grad, false, &ln_gamma_grad, false, &ln_beta_grad, false});
    out.insert(out.end(), {ln_y, ln_x_grad, ln_gamma_grad, ln_beta_grad});
    Tensor penalty = Tensor::zeros(Shape{});
    cpu().regularizer_forward(0.01, 0.02, x, penalty);
    out.push_back(penalty);
    runs.push_back(out);
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    for (size_t t = 0; t < runs[0].size(); ++t) {
      EXPECT_TRUE(bitwise_equal(runs[0][t], runs[r][t]))
          << "output " << t << " of run " << r << " differs from the first one-thread run";
    }
  }
}

}  // namespace
}  // namespace trainyard::backend_test
