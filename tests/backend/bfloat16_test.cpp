// bfloat16 on the CPU backend: cast's rounding on known bit patterns (ties to even, NaN,
// infinities, overflow, subnormals, one rounding from float64), and the mixed-precision
// entries (matmul, bias, activations, dropout, copy) against float64 references computed
// from the same bfloat16 inputs, within bfloat16's rounding (relative error ~2^-8).
#include "core/bfloat16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend_test_util.h"
#include "core/error.h"

namespace trainyard::backend_test {
namespace {

using backend::Activation;
using backend::ActivationKind;

// Two bfloat16 roundings (inputs are exact, the output is rounded once) plus float32
// arithmetic: well under 1e-2 in relative norm.
constexpr double kBFloat16Bound = 1e-2;

Tensor bfloat16_of(const Shape& shape, const std::vector<double>& values) {
  return Tensor::from_vector<double>(shape, values).cast(DType::kBFloat16);
}

Tensor random_bfloat16(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0) {
  return bfloat16_of(shape, sample_values(shape.num_elements(), seed, low, high));
}

Tensor as_float64(const Tensor& tensor) {
  return tensor.cast(DType::kFloat64);
}

uint16_t bits_at(const Tensor& tensor, int64_t i) {
  return static_cast<const uint16_t*>(tensor.raw_data())[i];
}

// ||got - reference|| / ||reference||, infinite when got holds a NaN or infinity.
double relative_error(const Tensor& got, const Tensor& reference) {
  Tensor a = as_float64(got), b = as_float64(reference);
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.data<double>()[i], y = b.data<double>()[i];
    if (!std::isfinite(x)) return std::numeric_limits<double>::infinity();
    difference += (x - y) * (x - y);
    norm += y * y;
  }
  return norm == 0 ? std::sqrt(difference) : std::sqrt(difference / norm);
}

Tensor cast_to_bfloat16(const Tensor& source) {
  Tensor out = Tensor::zeros(source.shape(), DType::kBFloat16);
  cpu().cast(source, out, false);
  return out;
}

TEST(BFloat16CastTest, Float32RoundsToNearestEven) {
  struct Case {
    uint32_t float_bits;
    uint16_t expected;
    const char* what;
  };
  const std::vector<Case> cases = {
      {0x3F800000u, 0x3F80, "1.0 exact"},
      {0x3F807FFFu, 0x3F80, "just below a tie rounds down"},
      {0x3F808000u, 0x3F80, "tie with an even kept bit stays"},
      {0x3F808001u, 0x3F81, "just above a tie rounds up"},
      {0x3F818000u, 0x3F82, "tie with an odd kept bit rounds up to even"},
      {0xBF818000u, 0xBF82, "negative tie rounds to even"},
      {0x80000000u, 0x8000, "-0 keeps its sign"},
      {0x7F800000u, 0x7F80, "+inf"},
      {0xFF800000u, 0xFF80, "-inf"},
      {0x7F7FFFFFu, 0x7F80, "float32 max overflows to inf"},
      {0x7F7F7FFFu, 0x7F7F, "below the overflow midpoint stays finite"},
      {0x00010000u, 0x0001, "subnormal exact"},
      {0x00018000u, 0x0002, "subnormal tie rounds to even"},
  };
  std::vector<float> values;
  for (const Case& c : cases) values.push_back(std::bit_cast<float>(c.float_bits));
  Tensor out = cast_to_bfloat16(Tensor::from_vector<float>(Shape{int64_t(values.size())}, values));
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(bits_at(out, int64_t(i)), cases[i].expected) << cases[i].what;
  }
}

TEST(BFloat16CastTest, NaNStaysNaN) {
  const std::vector<float> values = {std::bit_cast<float>(0x7FC00000u),
                                     std::bit_cast<float>(0x7F800001u),   // signalling
                                     std::bit_cast<float>(0xFFFFFFFFu)};  // all mantissa bits
  Tensor out = cast_to_bfloat16(Tensor::from_vector<float>(Shape{3}, values));
  for (int64_t i = 0; i < 3; ++i) {
    const uint16_t bits = bits_at(out, i);
    EXPECT_EQ(bits & 0x7F80, 0x7F80) << i;
    EXPECT_NE(bits & 0x007F, 0) << "NaN became infinity at " << i;
  }
  Tensor from_double = cast_to_bfloat16(Tensor::from_vector<double>(Shape{1}, {std::nan("")}));
  EXPECT_TRUE(std::isnan(BFloat16::to_float(BFloat16::from_bits(bits_at(from_double, 0)))));
}

TEST(BFloat16CastTest, Float64RoundsOnce) {
  const std::vector<double> values = {
      1.0 + std::ldexp(1.0, -8),                         // tie: stays 1.0
      1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40),  // above the tie; via float32 it ties
      -(1.0 + 3 * std::ldexp(1.0, -8)),                  // tie, odd kept bit: away to even
      1e39,                                              // beyond float32 and bfloat16: inf
      -1e39,
      std::ldexp(1.0, -133),  // smallest bfloat16 subnormal
      std::ldexp(3.0, -134),  // 1.5 of it: tie, rounds to the even 2
      std::ldexp(1.0, -134),  // half of it: tie, rounds to zero
      std::numeric_limits<double>::infinity(),
  };
  const std::vector<uint16_t> expected = {0x3F80, 0x3F81, 0xBF82, 0x7F80, 0xFF80,
                                          0x0001, 0x0002, 0x0000, 0x7F80};
  Tensor out = cast_to_bfloat16(Tensor::from_vector<double>(Shape{int64_t(values.size())}, values));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(bits_at(out, int64_t(i)), expected[i]) << "value " << values[i];
  }
}

TEST(BFloat16CastTest, WideningIsExactAndAccumulateAddsOnce) {
  Tensor source = bfloat16_of(Shape{4}, {1.5, -2.25, 3.0e38, 1.0 / 128});
  Tensor wide = Tensor::zeros(Shape{4}, DType::kFloat32);
  cpu().cast(source, wide, false);
  EXPECT_EQ(wide.to_vector<float>(),
            (std::vector<float>{1.5f, -2.25f, BFloat16::to_float(BFloat16(3.0e38)), 1.0f / 128}));
  Tensor wide64 = Tensor::from_vector<double>(Shape{4}, {1, 1, 1, 1});
  cpu().cast(source, wide64, true);
  EXPECT_EQ(wide64.item(0), 2.5);
  EXPECT_EQ(wide64.item(3), 1.0 + 1.0 / 128);
  // bfloat16 += float32 rounds the float32 sum once: 1 + 0.75 * 2^-7 up to 1 + 2^-7,
  // 1 + 0.25 * 2^-7 down to 1.
  Tensor narrow = bfloat16_of(Shape{2}, {1.0, 1.0});
  Tensor increment = Tensor::from_vector<float>(Shape{2}, {0.0078125f * 0.75f, 0.0078125f * 0.25f});
  cpu().cast(increment, narrow, true);
  EXPECT_EQ(bits_at(narrow, 0), 0x3F81);
  EXPECT_EQ(bits_at(narrow, 1), 0x3F80);
}

TEST(BFloat16CastTest, ElementCountMismatchIsShapeError) {
  Tensor out = Tensor::zeros(Shape{3}, DType::kBFloat16);
  EXPECT_THROW(cpu().cast(Tensor::zeros(Shape{4}), out, false), ShapeError);
}

TEST(BFloat16EntriesTest, MatmulAccumulatesInFloat) {
  for (bool transpose_a : {false, true}) {
    for (bool transpose_b : {false, true}) {
      const int64_t m = 37, k = 301, n = 29;
      Tensor a = random_bfloat16(transpose_a ? Shape{k, m} : Shape{m, k}, 1);
      Tensor b = random_bfloat16(transpose_b ? Shape{n, k} : Shape{k, n}, 2);
      Tensor c = random_bfloat16(Shape{m, n}, 3);
      Tensor reference = as_float64(c);
      cpu().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, reference, 0.5, 2.0);
      cpu().matmul(a, transpose_a, b, transpose_b, c, 0.5, 2.0);
      EXPECT_LT(relative_error(c, reference), kBFloat16Bound)
          << "transpose_a " << transpose_a << " transpose_b " << transpose_b;
    }
  }
}

// bfloat16 operands into a float32 result (mixed precision's kernel gradients): exact
// products summed in float32, so float32's bound, not bfloat16's, and beta adds in float32.
TEST(BFloat16EntriesTest, MatmulIntoFloat32KeepsFloat32Precision) {
  for (bool transpose_a : {false, true}) {
    for (bool transpose_b : {false, true}) {
      const int64_t m = 37, k = 301, n = 29;
      Tensor a = random_bfloat16(transpose_a ? Shape{k, m} : Shape{m, k}, 4);
      Tensor b = random_bfloat16(transpose_b ? Shape{n, k} : Shape{k, n}, 5);
      Tensor c = Tensor::from_vector<double>(Shape{m, n}, sample_values(m * n, 6, -1.0, 1.0))
                     .cast(DType::kFloat32);
      Tensor reference = as_float64(c);
      cpu().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, reference, 0.5, 2.0);
      cpu().matmul(a, transpose_a, b, transpose_b, c, 0.5, 2.0);
      EXPECT_EQ(c.dtype(), DType::kFloat32);
      EXPECT_LT(relative_error(c, reference), 1e-6)
          << "transpose_a " << transpose_a << " transpose_b " << transpose_b;
    }
  }
  // Only bfloat16 operands may write float32: float32 operands into bfloat16 are refused.
  Tensor a32 = Tensor::zeros(Shape{2, 3}), b32 = Tensor::zeros(Shape{3, 2});
  EXPECT_THROW(
      cpu().matmul(a32, false, b32, false, Tensor::zeros(Shape{2, 2}, DType::kBFloat16), 1.0, 0.0),
      ShapeError);
}

TEST(BFloat16EntriesTest, BiasAddAndItsGradient) {
  Tensor x = random_bfloat16(Shape{64, 24}, 4);
  Tensor bias = random_bfloat16(Shape{24}, 5);
  Tensor out = Tensor::zeros(x.shape(), DType::kBFloat16);
  cpu().bias_add(x, bias, out);
  Tensor reference = Tensor::zeros(x.shape(), DType::kFloat64);
  cpu().bias_add(as_float64(x), as_float64(bias), reference);
  EXPECT_LT(relative_error(out, reference), kBFloat16Bound);

  Tensor bias_grad = random_bfloat16(Shape{24}, 6);
  Tensor bias_reference = as_float64(bias_grad);
  cpu().bias_add_backward(x, bias_grad, true);
  cpu().bias_add_backward(as_float64(x), bias_reference, true);
  EXPECT_LT(relative_error(bias_grad, bias_reference), kBFloat16Bound);
}

TEST(BFloat16EntriesTest, ActivationsForwardAndBackward) {
  for (ActivationKind kind :
       {ActivationKind::kLinear, ActivationKind::kRelu, ActivationKind::kSigmoid,
        ActivationKind::kTanh, ActivationKind::kSoftmax, ActivationKind::kGelu}) {
    const std::string name(backend::activation_name(kind));
    const Activation activation{kind};
    Tensor x = random_bfloat16(Shape{16, 33}, 7, -3.0, 3.0);
    Tensor y = Tensor::zeros(x.shape(), DType::kBFloat16);
    cpu().activation_forward(activation, x, y);
    Tensor y_reference = Tensor::zeros(x.shape(), DType::kFloat64);
    cpu().activation_forward(activation, as_float64(x), y_reference);
    EXPECT_LT(relative_error(y, y_reference), kBFloat16Bound) << name;

    Tensor y_grad = random_bfloat16(x.shape(), 8);
    Tensor x_grad = random_bfloat16(x.shape(), 9);
    Tensor x_grad_reference = as_float64(x_grad);
    cpu().activation_backward(activation, x, y, y_grad, x_grad, true);
    cpu().activation_backward(activation, as_float64(x), as_float64(y), as_float64(y_grad),
                              x_grad_reference, true);
    EXPECT_LT(relative_error(x_grad, x_grad_reference), kBFloat16Bound) << name;
  }
}

TEST(BFloat16EntriesTest, BiasActivationBackwardInPlace) {
  const Activation relu{ActivationKind::kRelu};
  Tensor y = random_bfloat16(Shape{40, 12}, 10, 0.0, 2.0);
  Tensor grad = random_bfloat16(y.shape(), 11);
  Tensor grad_reference = as_float64(grad);
  Tensor bias_grad = Tensor::zeros(Shape{12}, DType::kBFloat16);
  Tensor bias_reference = Tensor::zeros(Shape{12}, DType::kFloat64);
  cpu().bias_activation_backward(relu, y, grad, grad, bias_grad, false);  // z_grad = y_grad
  cpu().bias_activation_backward(relu, as_float64(y), grad_reference, grad_reference,
                                 bias_reference, false);
  EXPECT_LT(relative_error(grad, grad_reference), kBFloat16Bound);
  EXPECT_LT(relative_error(bias_grad, bias_reference), kBFloat16Bound);
}

TEST(BFloat16EntriesTest, DropoutDropsTheFloat32Mask) {
  Tensor x = random_bfloat16(Shape{1000}, 12, 0.5, 1.5);
  Tensor y = Tensor::zeros(x.shape(), DType::kBFloat16);
  cpu().dropout_forward(0.3, 42, 7, x, y);
  Tensor x32 = x.cast(DType::kFloat32);
  Tensor y32 = Tensor::zeros(x.shape(), DType::kFloat32);
  cpu().dropout_forward(0.3, 42, 7, x32, y32);
  // Same mask, and the kept values are the float32 results rounded once.
  EXPECT_TRUE(bitwise_equal(y, cast_to_bfloat16(y32)));

  Tensor x_grad = Tensor::zeros(x.shape(), DType::kBFloat16);
  cpu().dropout_backward(0.3, 42, 7, x, x_grad, false);
  EXPECT_TRUE(bitwise_equal(x_grad, y));
}

TEST(BFloat16EntriesTest, CopyAccumulatesAndFillRounds) {
  Tensor a = bfloat16_of(Shape{3}, {1.0, 2.0, -0.5});
  Tensor b = bfloat16_of(Shape{3}, {0.5, 0.25, 0.5});
  cpu().copy(a, b, true);
  EXPECT_EQ(b.cast(DType::kFloat64).to_vector<double>(), (std::vector<double>{1.5, 2.25, 0.0}));
  cpu().fill(b, 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30));
  EXPECT_EQ(bits_at(b, 0), 0x3F81);
}

TEST(BFloat16EntriesTest, EntriesWithoutBFloat16NameThemselves) {
  Tensor x = random_bfloat16(Shape{4, 3}, 13);
  Tensor gamma = random_bfloat16(Shape{3}, 14);
  Tensor y = Tensor::zeros(x.shape(), DType::kBFloat16);
  try {
    cpu().layer_norm_forward(x, gamma, gamma, 1e-3, y);
    FAIL() << "layer_norm_forward accepted bfloat16";
  } catch (const ValueError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("layer_norm"), std::string::npos) << message;
    EXPECT_NE(message.find("bfloat16"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace trainyard::backend_test
