// Activations against long-double references written from Keras's formulas
// (keras-semantics.md 1.9), at ordinary points and at |x| = 30 and 100, where a careless
// exp overflows or cancels, in float32 and float64.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::Activation;
using backend::ActivationKind;

struct ActivationCase {
  ActivationKind kind;
  double alpha;
  const char* label;
};

// Every activation and every constant the brief of each layer default names.
const std::vector<ActivationCase>& elementwise_cases() {
  static const std::vector<ActivationCase> cases = {
      {ActivationKind::kLinear, 0.0, "linear"},
      {ActivationKind::kRelu, 0.0, "relu"},
      {ActivationKind::kSigmoid, 0.0, "sigmoid"},
      {ActivationKind::kTanh, 0.0, "tanh"},
      {ActivationKind::kGelu, 0.0, "gelu"},
      {ActivationKind::kSilu, 0.0, "silu"},
      {ActivationKind::kLeakyRelu, 0.2, "leaky_relu(0.2)"},
      {ActivationKind::kLeakyRelu, 0.3, "leaky_relu(0.3)"},
      {ActivationKind::kElu, 1.0, "elu(1.0)"},
      {ActivationKind::kElu, 0.5, "elu(0.5)"},
      {ActivationKind::kSoftplus, 0.0, "softplus"},
  };
  return cases;
}

const std::vector<double> kPoints = {-100, -30, -5, -3,  -1, -0.5, -1e-3, 0,  1e-3,
                                     0.25, 0.5, 1,  2.5, 3,  5,    30,    100};

// Keras's definitions, term by term, in long double.
Real sigmoid_reference(Real x) {
  return 1.0L / (1.0L + std::exp(-x));
}

Real forward_reference(const ActivationCase& c, Real x) {
  Real alpha = static_cast<Real>(c.alpha);
  switch (c.kind) {
    case ActivationKind::kLinear:
      return x;
    case ActivationKind::kRelu:
      return std::fmax(x, 0.0L);
    case ActivationKind::kSigmoid:
      return sigmoid_reference(x);
    case ActivationKind::kTanh:
      return std::tanh(x);
    // x * 0.5 * (1 + erf(x / sqrt 2)), with 1 + erf(z) = erfc(-z) so that even long double
    // keeps gelu(-30) = -30 * Phi(-30) ~ -1.5e-196 instead of cancelling it to 0.
    case ActivationKind::kGelu:
      return x * 0.5L * std::erfc(-x / std::sqrt(2.0L));
    case ActivationKind::kSilu:
      return x * sigmoid_reference(x);
    case ActivationKind::kLeakyRelu:
      return x > 0 ? x : alpha * x;
    case ActivationKind::kElu:
      return x > 0 ? x : alpha * (std::exp(x) - 1.0L);
    // log(1 + e^x), with log1p so that e^-100 is not lost next to 1.
    case ActivationKind::kSoftplus:
      return std::log1p(std::exp(x));
    case ActivationKind::kSoftmax:
      break;
  }
  ADD_FAILURE() << "no elementwise reference for " << c.label;
  return 0;
}

// d f / d x, differentiated by hand from the definitions above.
Real derivative_reference(const ActivationCase& c, Real x) {
  Real alpha = static_cast<Real>(c.alpha);
  switch (c.kind) {
    case ActivationKind::kLinear:
      return 1;
    case ActivationKind::kRelu:
      return x > 0 ? 1 : 0;
    case ActivationKind::kSigmoid: {
      Real s = sigmoid_reference(x);
      return s * (1 - s);
    }
    case ActivationKind::kTanh: {
      Real t = std::tanh(x);
      return 1 - t * t;
    }
    case ActivationKind::kGelu: {
      Real cdf = 0.5L * std::erfc(-x / std::sqrt(2.0L));
      Real pdf = std::exp(-0.5L * x * x) / std::sqrt(2.0L * std::numbers::pi_v<Real>);
      return cdf + x * pdf;
    }
    case ActivationKind::kSilu: {
      Real s = sigmoid_reference(x);
      return s + x * s * (1 - s);
    }
    case ActivationKind::kLeakyRelu:
      return x > 0 ? 1 : alpha;
    case ActivationKind::kElu:
      return x > 0 ? 1 : alpha * std::exp(x);
    case ActivationKind::kSoftplus:
      return sigmoid_reference(x);
    case ActivationKind::kSoftmax:
      break;
  }
  ADD_FAILURE() << "no elementwise derivative for " << c.label;
  return 0;
}

template <typename T>
class ActivationTest : public ::testing::Test {};
TYPED_TEST_SUITE(ActivationTest, FloatTypes);

TYPED_TEST(ActivationTest, ForwardMatchesKerasFormulasIncludingLargeInputs) {
  using T = TypeParam;
  Tensor x = tensor_of<T>(Shape{static_cast<int64_t>(kPoints.size())}, kPoints);
  std::vector<Real> inputs = reals_of(x);
  for (const ActivationCase& c : elementwise_cases()) {
    Tensor y = Tensor::zeros(x.shape(), x.dtype());
    cpu().activation_forward({c.kind, c.alpha}, x, y);
    for (size_t i = 0; i < inputs.size(); ++i) {
      EXPECT_TRUE(near_reference<T>(y.item(static_cast<int64_t>(i)),
                                    forward_reference(c, inputs[i]), relative_tolerance<T>(),
                                    std::string(c.label) + " at x=" + std::to_string(kPoints[i])));
    }
  }
}

// Hand-worked values a reader can check without a computer algebra system.
TYPED_TEST(ActivationTest, ForwardHandWorkedValues) {
  using T = TypeParam;
  Tensor x = tensor_of<T>(Shape{3}, {-2, 0, 2});
  auto run = [&](Activation activation) {
    Tensor y = Tensor::zeros(x.shape(), x.dtype());
    cpu().activation_forward(activation, x, y);
    return y;
  };
  double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-12;
  // leaky_relu(-2) with the function default 0.2 is -0.4; with the layer default 0.3, -0.6.
  EXPECT_NEAR(run({ActivationKind::kLeakyRelu, 0.2}).item(0), -0.4, tolerance);
  EXPECT_NEAR(run({ActivationKind::kLeakyRelu, 0.3}).item(0), -0.6, tolerance);
  // elu(-2) = alpha * (e^-2 - 1) = alpha * -0.8646647167633873.
  EXPECT_NEAR(run({ActivationKind::kElu, 1.0}).item(0), -0.8646647167633873, tolerance);
  EXPECT_NEAR(run({ActivationKind::kElu, 0.5}).item(0), -0.43233235838169365, tolerance);
  // softplus(0) = log 2; sigmoid(0) = 1/2; gelu(2) = 2 * Phi(2) = 2 * 0.9772498680518208.
  EXPECT_NEAR(run({ActivationKind::kSoftplus}).item(1), std::numbers::ln2, tolerance);
  EXPECT_NEAR(run({ActivationKind::kSigmoid}).item(1), 0.5, tolerance);
  EXPECT_NEAR(run({ActivationKind::kGelu}).item(2), 1.9544997361036416, tolerance);
  // silu(2) = 2 / (1 + e^-2) = 1.7615941559557649.
  EXPECT_NEAR(run({ActivationKind::kSilu}).item(2), 1.7615941559557649, tolerance);
}

TYPED_TEST(ActivationTest, BackwardMatchesHandDerivedDerivatives) {
  using T = TypeParam;
  std::vector<double> points;
  for (double point : kPoints) {
    if (point != 0) points.push_back(point);  // relu, leaky_relu and elu have a kink at 0
  }
  Shape shape{static_cast<int64_t>(points.size())};
  Tensor x = tensor_of<T>(shape, points);
  std::vector<double> upstream = sample_values(shape.num_elements(), 7, 0.5, 1.5);
  Tensor y_grad = tensor_of<T>(shape, upstream);
  std::vector<Real> inputs = reals_of(x);
  std::vector<Real> upstream_values = reals_of(y_grad);
  // Kernels compute f' from the rounded forward output (as TensorFlow's gradients do), so
  // an absolute error of a few units of T's epsilon is expected where f' is tiny.
  double epsilon = std::numeric_limits<T>::epsilon();
  for (const ActivationCase& c : elementwise_cases()) {
    Activation activation{c.kind, c.alpha};
    Tensor y = Tensor::zeros(shape, x.dtype());
    cpu().activation_forward(activation, x, y);
    for (bool accumulate : {false, true}) {
      Tensor x_grad = tensor_of<T>(shape, std::vector<double>(points.size(), 0.25));
      cpu().activation_backward(activation, x, y, y_grad, x_grad, accumulate);
      for (size_t i = 0; i < points.size(); ++i) {
        Real expected =
            derivative_reference(c, inputs[i]) * upstream_values[i] + (accumulate ? 0.25L : 0.0L);
        double got = x_grad.item(static_cast<int64_t>(i));
        ASSERT_TRUE(std::isfinite(got)) << c.label << " at x=" << points[i];
        EXPECT_LE(std::fabs(static_cast<Real>(got) - expected),
                  relative_tolerance<T>() * std::fabs(expected) + 8 * epsilon)
            << c.label << " at x=" << points[i] << (accumulate ? " accumulating" : "") << ": got "
            << got << ", reference " << static_cast<double>(expected);
      }
    }
  }
}

// Rows chosen so that exp(x) overflows in float32 and double without the max shift.
const std::vector<std::vector<double>> kSoftmaxRows = {
    {-100, -30, 0, 30, 100},       {100, 100, 100, 100, 100},  {1, 2, 3, 4, 5},
    {-100, -100, -100, -100, -99}, {0.5, -0.25, 0.125, 2, -3},
};

TYPED_TEST(ActivationTest, SoftmaxForwardAndBackwardPerRow) {
  using T = TypeParam;
  const int64_t rows = static_cast<int64_t>(kSoftmaxRows.size()), columns = 5;
  std::vector<double> flat;
  for (const auto& row : kSoftmaxRows) flat.insert(flat.end(), row.begin(), row.end());
  Tensor x = tensor_of<T>(Shape{rows, columns}, flat);
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  Activation softmax{ActivationKind::kSoftmax};
  cpu().activation_forward(softmax, x, y);

  std::vector<double> upstream = sample_values(rows * columns, 11, -1.0, 1.0);
  Tensor y_grad = tensor_of<T>(x.shape(), upstream);
  Tensor x_grad = Tensor::zeros(x.shape(), x.dtype());
  cpu().activation_backward(softmax, x, y, y_grad, x_grad, false);

  std::vector<Real> inputs = reals_of(x), g = reals_of(y_grad);
  double epsilon = std::numeric_limits<T>::epsilon();
  for (int64_t r = 0; r < rows; ++r) {
    // softmax(x)_j = e^x_j / sum_k e^x_k; long double holds e^100 without a shift.
    Real sum = 0;
    for (int64_t j = 0; j < columns; ++j) sum += std::exp(inputs[r * columns + j]);
    std::vector<Real> reference(columns);
    Real dot = 0;
    for (int64_t j = 0; j < columns; ++j) {
      reference[j] = std::exp(inputs[r * columns + j]) / sum;
      dot += g[r * columns + j] * reference[j];
    }
    for (int64_t j = 0; j < columns; ++j) {
      int64_t i = r * columns + j;
      std::string where = "row " + std::to_string(r) + " column " + std::to_string(j);
      EXPECT_TRUE(near_reference<T>(y.item(i), reference[j], relative_tolerance<T>(), where));
      // d x_j = y_j * (g_j - sum_k g_k y_k)
      Real expected = reference[j] * (g[i] - dot);
      EXPECT_LE(std::fabs(static_cast<Real>(x_grad.item(i)) - expected),
                relative_tolerance<T>() * std::fabs(expected) + 8 * epsilon)
          << where << ": got " << x_grad.item(i) << ", reference " << double(expected);
    }
  }
}

TEST(ActivationErrorTest, MismatchedSizesNameTheEntry) {
  Tensor x = Tensor::zeros(Shape{4});
  Tensor y = Tensor::zeros(Shape{5});
  try {
    cpu().activation_forward({ActivationKind::kRelu}, x, y);
    FAIL() << "expected a shape error";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("activation_forward"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(cpu().activation_forward({ActivationKind::kRelu}, x,
                                        Tensor::zeros(Shape{4}, DType::kFloat64)),
               ShapeError);
  Tensor integers = Tensor::zeros(Shape{4}, DType::kInt32);
  EXPECT_THROW(cpu().activation_forward({ActivationKind::kRelu}, integers, integers), ValueError);
}

TEST(ActivationNameTest, KerasSpellings) {
  EXPECT_EQ(backend::activation_name(ActivationKind::kLeakyRelu), "leaky_relu");
  EXPECT_EQ(backend::activation_name(ActivationKind::kSilu), "silu");
  EXPECT_EQ(backend::activation_name(ActivationKind::kGelu), "gelu");
  EXPECT_EQ(backend::activation_name(ActivationKind::kSoftplus), "softplus");
}

}  // namespace
}  // namespace trainyard::backend_test
