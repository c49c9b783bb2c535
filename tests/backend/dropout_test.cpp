// Inverted dropout with a Philox mask: the statistics of the mask, the 1 / (1 - rate)
// scale, and the determinism that lets backward rebuild the mask from (seed, step).
#include <gtest/gtest.h>

#include <cmath>

#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

constexpr int64_t kCount = 1 << 20;

// x = 1 + i / kCount: every element nonzero and distinct, so a zero output is a drop.
template <typename T>
Tensor ramp(int64_t count) {
  Tensor x = Tensor::zeros(Shape{count}, dtype_of<T>());
  T* data = x.data<T>();
  for (int64_t i = 0; i < count; ++i) data[i] = static_cast<T>(1.0 + double(i) / double(count));
  return x;
}

template <typename T>
Tensor forward(double rate, uint64_t seed, uint64_t step, const Tensor& x) {
  Tensor y = Tensor::zeros(x.shape(), x.dtype());
  cpu().dropout_forward(rate, seed, step, x, y);
  return y;
}

template <typename T>
class DropoutTest : public ::testing::Test {};
TYPED_TEST_SUITE(DropoutTest, FloatTypes);

TYPED_TEST(DropoutTest, KeepsAboutOneMinusRateAndScalesKeptValues) {
  using T = TypeParam;
  Tensor x = ramp<T>(kCount);
  for (double rate : {0.1, 0.3, 0.5, 0.9}) {
    Tensor y = forward<T>(rate, 42, 7, x);
    const T* in = x.data<T>();
    const T* out = y.data<T>();
    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    int64_t kept = 0, kept_pairs = 0, kept_first_half = 0;
    for (int64_t i = 0; i < kCount; ++i) {
      if (out[i] == T(0)) continue;
      ++kept;
      if (i < kCount / 2) ++kept_first_half;
      if (i + 1 < kCount && out[i + 1] != T(0)) ++kept_pairs;
      // Kept values are x / (1 - rate), to rounding of the product.
      ASSERT_NEAR(double(out[i]), double(in[i]) * double(scale),
                  4 * std::numeric_limits<T>::epsilon() * double(in[i]) * double(scale))
          << "rate " << rate << " element " << i;
    }
    // Binomial(n, 1 - rate): six standard deviations is well under 0.003 for n = 2^20.
    double keep = 1.0 - rate;
    double sigma = std::sqrt(keep * rate / double(kCount));
    EXPECT_NEAR(double(kept) / kCount, keep, 6 * sigma) << "rate " << rate;
    EXPECT_NEAR(double(kept_first_half) / (kCount / 2), keep, 6 * sigma * std::sqrt(2.0))
        << "rate " << rate;
    // Neighbours are independent (elements of one Philox block must not share bits).
    EXPECT_NEAR(double(kept_pairs) / (kCount - 1), keep * keep, 8 * sigma) << "rate " << rate;
  }
}

TYPED_TEST(DropoutTest, MaskIsAPureFunctionOfSeedAndStep) {
  using T = TypeParam;
  const int64_t count = 100003;  // not a multiple of 4: the last Philox block is partial
  Tensor x = ramp<T>(count);
  Tensor reference = forward<T>(0.4, 9, 3, x);
  EXPECT_TRUE(bitwise_equal(forward<T>(0.4, 9, 3, x), reference));
  auto differing = [&](const Tensor& other) {
    int64_t count_differing = 0;
    for (int64_t i = 0; i < count; ++i) {
      count_differing += (reference.item(i) == 0) != (other.item(i) == 0);
    }
    return double(count_differing) / count;
  };
  // Two independent masks disagree on 2 * 0.4 * 0.6 = 48% of elements.
  EXPECT_NEAR(differing(forward<T>(0.4, 9, 4, x)), 0.48, 0.02) << "another step";
  EXPECT_NEAR(differing(forward<T>(0.4, 10, 3, x)), 0.48, 0.02) << "another seed";
  // The thread count does not change the mask.
  for (int threads : {1, 2}) {
    ThreadCountScope scope(threads);
    EXPECT_TRUE(bitwise_equal(forward<T>(0.4, 9, 3, x), reference)) << threads << " threads";
  }
}

TYPED_TEST(DropoutTest, BackwardAppliesTheForwardMask) {
  using T = TypeParam;
  const int64_t count = 70001;
  const double rate = 0.25;
  Tensor x = ramp<T>(count);
  Tensor y = forward<T>(rate, 5, 11, x);
  std::vector<double> upstream = sample_values(count, 3, 0.5, 1.5);
  Tensor y_grad = tensor_of<T>(Shape{count}, upstream);
  for (int threads : {1, 2}) {
    ThreadCountScope scope(threads);
    Tensor x_grad = Tensor::zeros(x.shape(), x.dtype());
    cpu().dropout_backward(rate, 5, 11, y_grad, x_grad, false);
    Tensor accumulated = tensor_of<T>(Shape{count}, std::vector<double>(count, 2.0));
    cpu().dropout_backward(rate, 5, 11, y_grad, accumulated, true);
    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    for (int64_t i = 0; i < count; ++i) {
      bool kept = y.item(i) != 0;
      T expected = kept ? y_grad.data<T>()[i] * scale : T(0);
      ASSERT_EQ(x_grad.data<T>()[i], expected) << "element " << i << " on " << threads;
      ASSERT_EQ(accumulated.data<T>()[i], T(2) + expected) << "element " << i;
    }
  }
}

TYPED_TEST(DropoutTest, RateZeroIsIdentity) {
  using T = TypeParam;
  Tensor x = ramp<T>(1001);
  EXPECT_TRUE(bitwise_equal(forward<T>(0.0, 1, 1, x), x));
  Tensor grad = Tensor::zeros(x.shape(), x.dtype());
  cpu().dropout_backward(0.0, 1, 1, x, grad, false);
  EXPECT_TRUE(bitwise_equal(grad, x));
}

TEST(DropoutErrorTest, MismatchedSizesNameTheEntry) {
  try {
    cpu().dropout_forward(0.5, 1, 1, Tensor::zeros(Shape{4}), Tensor::zeros(Shape{3}));
    FAIL() << "mismatched sizes accepted";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("dropout_forward"), std::string::npos);
  }
  EXPECT_THROW(cpu().dropout_backward(0.5, 1, 1, Tensor::zeros(Shape{4}),
                                      Tensor::zeros(Shape{4}, DType::kFloat64), false),
               ShapeError);
}

}  // namespace
}  // namespace trainyard::backend_test
