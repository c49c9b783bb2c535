// Matrix products against a naive double triple loop, for all four transpose combinations
// and for shapes on both sides of the kernel's two-thread split (rows or columns).
#include <gtest/gtest.h>

#include <cmath>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

struct MatmulShape {
  int64_t m, k, n;
  const char* why;
};

// The kernel splits when m*n*k >= 2 * 2^17 and the split extent (m when m >= n, else n)
// holds at least two 16-wide blocks.
const std::vector<MatmulShape> kShapes = {
    {1, 1, 1, "scalar"},
    {2, 3, 4, "tiny"},
    {7, 5, 3, "odd tiny"},
    {1, 784, 128, "one row (below the split threshold)"},
    {512, 300, 256, "rows split: 39M multiply-adds, m >= n"},
    {4, 784, 128, "columns split: 401k multiply-adds, m < n"},
    {784, 32, 128, "rows split, the x^T @ dy shape of a Dense kernel gradient"},
    {257, 100, 33, "rows split at a 16-aligned point of an odd extent"},
    {3, 500, 301, "columns split at a 16-aligned point of an odd extent"},
};

// op(a) [m, k] @ op(b) [k, n] by the naive triple loop in double, from the stored
// (possibly transposed) operands; `magnitude` gets sum_p |a_ip b_pj| for the error bound.
std::vector<double> naive_product(const std::vector<Real>& a, bool transpose_a,
                                  const std::vector<Real>& b, bool transpose_b, int64_t m,
                                  int64_t k, int64_t n, std::vector<double>* magnitude) {
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  magnitude->assign(c.size(), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p) {
      double left = static_cast<double>(transpose_a ? a[p * m + i] : a[i * k + p]);
      for (int64_t j = 0; j < n; ++j) {
        double term = left * static_cast<double>(transpose_b ? b[j * k + p] : b[p * n + j]);
        c[i * n + j] += term;
        (*magnitude)[i * n + j] += std::fabs(term);
      }
    }
  }
  return c;
}

template <typename T>
void check_product(const MatmulShape& s, bool transpose_a, bool transpose_b, double alpha,
                   double beta, uint64_t seed, Tensor* result_out = nullptr, bool verify = true) {
  Shape a_shape = transpose_a ? Shape{s.k, s.m} : Shape{s.m, s.k};
  Shape b_shape = transpose_b ? Shape{s.n, s.k} : Shape{s.k, s.n};
  Tensor a = tensor_of<T>(a_shape, sample_values(s.m * s.k, seed, -1, 1));
  Tensor b = tensor_of<T>(b_shape, sample_values(s.k * s.n, seed + 1, -1, 1));
  Tensor c = tensor_of<T>(Shape{s.m, s.n}, sample_values(s.m * s.n, seed + 2, -1, 1));
  std::vector<Real> c_before = reals_of(c);
  cpu().matmul(a, transpose_a, b, transpose_b, c, alpha, beta);
  if (result_out) *result_out = c;
  if (!verify) return;
  std::vector<double> magnitude;
  std::vector<double> product =
      naive_product(reals_of(a), transpose_a, reals_of(b), transpose_b, s.m, s.k, s.n, &magnitude);
  // A sum of k products in T is off by at most ~k epsilon times the sum of |terms|; the
  // double reference may be off by as much again when T is double.
  const Real epsilon = 2 * std::numeric_limits<T>::epsilon();
  int failures = 0;
  for (int64_t i = 0; i < s.m * s.n && failures < 5; ++i) {
    size_t index = static_cast<size_t>(i);
    Real expected = static_cast<Real>(alpha) * static_cast<Real>(product[index]) +
                    static_cast<Real>(beta) * c_before[index];
    Real allowed = (s.k + 2) * epsilon *
                   (std::fabs(static_cast<Real>(alpha)) * magnitude[index] +
                    std::fabs(static_cast<Real>(beta) * c_before[index]));
    Real error = std::fabs(static_cast<Real>(c.item(i)) - expected);
    if (!(error <= allowed)) {
      ++failures;
      ADD_FAILURE() << s.why << " [" << s.m << ", " << s.k << ", " << s.n << "]"
                    << (transpose_a ? " a^T" : "") << (transpose_b ? " b^T" : "") << " alpha "
                    << alpha << " beta " << beta << ": element (" << i / s.n << ", " << i % s.n
                    << ") got " << c.item(i) << ", reference " << double(expected);
    }
  }
}

template <typename T>
class MatmulTest : public ::testing::Test {};
TYPED_TEST_SUITE(MatmulTest, FloatTypes);

TYPED_TEST(MatmulTest, EveryTransposeCombinationOnOneAndTwoThreads) {
  for (int threads : {1, 2}) {
    ThreadCountScope scope(threads);
    uint64_t seed = 1;
    for (const MatmulShape& shape : kShapes) {
      for (bool transpose_a : {false, true}) {
        for (bool transpose_b : {false, true}) {
          SCOPED_TRACE(std::to_string(threads) + " thread(s)");
          check_product<TypeParam>(shape, transpose_a, transpose_b, 1.0, 0.0, seed += 3);
        }
      }
    }
  }
}

// beta = 1 accumulates into c (how backward adds a second consumer's gradient), and alpha
// scales the product.
TYPED_TEST(MatmulTest, AlphaAndBetaAccumulate) {
  for (int threads : {1, 2}) {
    ThreadCountScope scope(threads);
    uint64_t seed = 500;
    for (const MatmulShape& shape : kShapes) {
      // The largest shape's reference is slow under sanitizers; it runs in the test above.
      if (shape.m * shape.k * shape.n > 10'000'000) continue;
      for (bool transpose_a : {false, true}) {
        check_product<TypeParam>(shape, transpose_a, !transpose_a, 1.0, 1.0, seed += 3);
        check_product<TypeParam>(shape, transpose_a, transpose_a, 0.5, -2.0, seed += 3);
      }
    }
  }
}

// Rank-3 inputs are matrices of their flattened leading dimensions: [2, 3, 4] @ [4, 5] is
// a [6, 4] @ [4, 5] product into [2, 3, 5].
TEST(MatmulShapeTest, LeadingDimensionsFlattenIntoRows) {
  std::vector<double> a_values = sample_values(24, 9, -1, 1);
  std::vector<double> b_values = sample_values(20, 10, -1, 1);
  Tensor a3 = tensor_of<double>(Shape{2, 3, 4}, a_values);
  Tensor a2 = tensor_of<double>(Shape{6, 4}, a_values);
  Tensor b = tensor_of<double>(Shape{4, 5}, b_values);
  Tensor c3 = Tensor::zeros(Shape{2, 3, 5}, DType::kFloat64);
  Tensor c2 = Tensor::zeros(Shape{6, 5}, DType::kFloat64);
  cpu().matmul(a3, false, b, false, c3, 1, 0);
  cpu().matmul(a2, false, b, false, c2, 1, 0);
  EXPECT_TRUE(bitwise_equal(c3, c2));
}

// With the same thread count, the same product is bitwise identical run after run; across
// thread counts it agrees to rounding (checked above against the reference).
TEST(MatmulDeterminismTest, RepeatedRunsAreBitwiseIdentical) {
  for (int threads : {1, 2}) {
    ThreadCountScope scope(threads);
    for (const MatmulShape& shape : kShapes) {
      for (bool transpose_a : {false, true}) {
        Tensor first, second;
        check_product<float>(shape, transpose_a, false, 1.0, 0.0, 77, &first, false);
        check_product<float>(shape, transpose_a, false, 1.0, 0.0, 77, &second, false);
        EXPECT_TRUE(bitwise_equal(first, second)) << shape.why << " on " << threads << " threads";
      }
    }
  }
}

TEST(MatmulErrorTest, ShapeErrorsNameTheEntryAndTheOperands) {
  Tensor a = Tensor::zeros(Shape{2, 3});
  Tensor b = Tensor::zeros(Shape{4, 5});
  Tensor c = Tensor::zeros(Shape{2, 5});
  try {
    cpu().matmul(a, false, b, false, c, 1, 0);
    FAIL() << "[2, 3] @ [4, 5] accepted";
  } catch (const ShapeError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("matmul"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[4, 5]"), std::string::npos) << message;
  }
  // Wrong output shape, transposes that do not fit, and mixed dtypes.
  EXPECT_THROW(
      cpu().matmul(a, false, Tensor::zeros(Shape{3, 5}), false, Tensor::zeros(Shape{5, 2}), 1, 0),
      ShapeError);
  EXPECT_THROW(
      cpu().matmul(a, true, Tensor::zeros(Shape{3, 5}), false, Tensor::zeros(Shape{3, 5}), 1, 0),
      ShapeError);
  EXPECT_THROW(cpu().matmul(a, false, Tensor::zeros(Shape{3, 5}, DType::kFloat64), false, c, 1, 0),
               ShapeError);
  try {
    cpu().matmul(a, true, Tensor::zeros(Shape{5, 3}), true, c, 1, 0);
    FAIL() << "[2, 3]^T @ [5, 3]^T into [2, 5] accepted";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("^T"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace trainyard::backend_test
