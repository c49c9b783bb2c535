// bfloat16 on the CUDA backend against the CPU backend: cast (the same bits, rounding to
// nearest even), and the mixed-precision entries (matmul on the tensor cores, bias, the
// activations, dropout with the CPU's mask, copy, fill) against float64 references computed
// from the same bfloat16 inputs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "cuda_test_util.h"

namespace trainyard::cuda_test {
namespace {

using backend::Activation;
using backend::ActivationKind;

// Inputs are exact bfloat16 values and each output is rounded once (2^-9 relative) after
// float32 arithmetic, so 1e-2 in relative norm is ample and still catches wrong indexing.
constexpr double kBFloat16Bound = 1e-2;

backend::Backend& cpu() {
  return backend::cpu_backend();
}

class CudaBFloat16Test : public CudaTest {
 protected:
  // A host bfloat16 tensor of values uniform in [low, high).
  Tensor random_bfloat16(const Shape& shape, double low = -1.0, double high = 1.0) {
    return random_host(shape, DType::kFloat64, low, high).cast(DType::kBFloat16);
  }
};

bool same_bits(const Tensor& a, const Tensor& b) {
  Tensor x = on_host(a), y = on_host(b);
  return x.nbytes() == y.nbytes() && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

// The same bits element by element, except that any two NaNs match: the GPU's conversions
// write canonical NaNs, the host's float32 <-> float64 conversions keep payloads.
::testing::AssertionResult same_bits_or_both_nan(const Tensor& got, const Tensor& expected) {
  Tensor x = on_host(got), y = on_host(expected);
  if (x.dtype() != y.dtype() || x.num_elements() != y.num_elements()) {
    return ::testing::AssertionFailure() << x.to_string() << " vs " << y.to_string();
  }
  Tensor x64 = as_float64(x), y64 = as_float64(y);
  const size_t size = dtype_size(x.dtype());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const double u = x64.data<double>()[i], v = y64.data<double>()[i];
    if (std::isnan(u) && std::isnan(v)) continue;
    const auto* p = static_cast<const char*>(x.raw_data()) + static_cast<size_t>(i) * size;
    const auto* q = static_cast<const char*>(y.raw_data()) + static_cast<size_t>(i) * size;
    if (std::memcmp(p, q, size) != 0) {
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << u << ", expected " << v;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(CudaBFloat16Test, CastGivesTheCpuBits) {
  // Ties, NaN, infinities, overflow and subnormals, then random values in every direction.
  const std::vector<uint32_t> patterns = {
      0x3F800000u, 0x3F807FFFu, 0x3F808000u, 0x3F808001u, 0x3F818000u, 0xBF818000u, 0x80000000u,
      0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x7F7F7FFFu, 0x00018000u, 0x7FC00000u, 0x7F800001u};
  std::vector<float> values;
  for (uint32_t bits : patterns) values.push_back(std::bit_cast<float>(bits));
  Tensor special = Tensor::from_vector<float>(Shape{int64_t(values.size())}, values);
  std::vector<Tensor> sources = {special, random_host(Shape{1000, 33}, DType::kFloat32, -1e3, 1e3),
                                 random_host(Shape{517}, DType::kFloat64, -1e-30, 1e-30),
                                 random_bfloat16(Shape{300})};
  for (const Tensor& source : sources) {
    for (DType target : {DType::kBFloat16, DType::kFloat32, DType::kFloat64}) {
      SCOPED_TRACE(std::string(dtype_name(source.dtype())) + " -> " +
                   std::string(dtype_name(target)));
      Tensor expected = Tensor::zeros(source.shape(), target);
      cpu().cast(source, expected, false);
      Tensor got = poisoned(source.shape(), target);
      gpu().cast(on_gpu(source), got, false);
      EXPECT_TRUE(same_bits_or_both_nan(got, expected));

      Tensor start = random_bfloat16(source.shape()).cast(target);
      Tensor accumulated = on_gpu(start);
      Tensor expected_sum = start.clone();
      cpu().cast(source, expected_sum, true);
      gpu().cast(on_gpu(source), accumulated, true);
      EXPECT_TRUE(same_bits_or_both_nan(accumulated, expected_sum)) << "accumulate";
    }
  }
}

TEST_F(CudaBFloat16Test, MatmulMatchesTheFloat64Reference) {
  // Sizes off multiples of 8 as well as the aligned ones the tensor cores prefer.
  const std::vector<std::vector<int64_t>> sizes = {{64, 128, 32}, {37, 301, 29}, {1, 8, 1}};
  for (const auto& size : sizes) {
    const int64_t m = size[0], k = size[1], n = size[2];
    for (bool transpose_a : {false, true}) {
      for (bool transpose_b : {false, true}) {
        SCOPED_TRACE("m " + std::to_string(m) + " k " + std::to_string(k) + " n " +
                     std::to_string(n) + (transpose_a ? " aT" : "") + (transpose_b ? " bT" : ""));
        Tensor a = random_bfloat16(transpose_a ? Shape{k, m} : Shape{m, k});
        Tensor b = random_bfloat16(transpose_b ? Shape{n, k} : Shape{k, n});
        Tensor c = random_bfloat16(Shape{m, n});
        Tensor expected = as_float64(c);
        cpu().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, expected, 0.5, 1.0);
        Tensor got = on_gpu(c);
        gpu().matmul(on_gpu(a), transpose_a, on_gpu(b), transpose_b, got, 0.5, 1.0);
        EXPECT_LE(relative_error(got, expected), kBFloat16Bound);

        Tensor overwritten = poisoned(Shape{m, n}, DType::kBFloat16);
        gpu().matmul(on_gpu(a), transpose_a, on_gpu(b), transpose_b, overwritten, 1.0, 0.0);
        Tensor product = Tensor::zeros(Shape{m, n}, DType::kFloat64);
        cpu().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, product, 1.0, 0.0);
        EXPECT_LE(relative_error(overwritten, product), kBFloat16Bound) << "beta 0";
      }
    }
  }
}

// bfloat16 operands into a float32 result, as mixed precision's kernel gradients use it:
// float32 accuracy against float64, beta adding into the float32 values.
TEST_F(CudaBFloat16Test, MatmulIntoFloat32MatchesTheFloat64Reference) {
  const std::vector<std::vector<int64_t>> sizes = {{64, 128, 32}, {37, 301, 29}, {1, 8, 1}};
  for (const auto& size : sizes) {
    const int64_t m = size[0], k = size[1], n = size[2];
    for (bool transpose_a : {false, true}) {
      for (bool transpose_b : {false, true}) {
        SCOPED_TRACE("m " + std::to_string(m) + " k " + std::to_string(k) + " n " +
                     std::to_string(n) + (transpose_a ? " aT" : "") + (transpose_b ? " bT" : ""));
        Tensor a = random_bfloat16(transpose_a ? Shape{k, m} : Shape{m, k});
        Tensor b = random_bfloat16(transpose_b ? Shape{n, k} : Shape{k, n});
        Tensor c = random_bfloat16(Shape{m, n}).cast(DType::kFloat32);
        Tensor expected = as_float64(c);
        cpu().matmul(as_float64(a), transpose_a, as_float64(b), transpose_b, expected, 0.5, 1.0);
        Tensor got = on_gpu(c);
        gpu().matmul(on_gpu(a), transpose_a, on_gpu(b), transpose_b, got, 0.5, 1.0);
        EXPECT_EQ(got.dtype(), DType::kFloat32);
        EXPECT_LE(relative_error(got, expected), 1e-5);
      }
    }
  }
}

TEST_F(CudaBFloat16Test, BiasAddAndBackward) {
  for (const Shape& shape : {Shape{37, 129}, Shape{600, 33}, Shape{1, 1500}}) {
    SCOPED_TRACE(shape.to_string());
    Tensor x = random_bfloat16(shape);
    Tensor bias = random_bfloat16(Shape{shape[-1]});
    Tensor out = poisoned(shape, DType::kBFloat16);
    gpu().bias_add(on_gpu(x), on_gpu(bias), out);
    Tensor expected = Tensor::zeros(shape, DType::kFloat64);
    cpu().bias_add(as_float64(x), as_float64(bias), expected);
    EXPECT_LE(relative_error(out, expected), kBFloat16Bound);

    for (bool accumulate : {false, true}) {
      Tensor start = random_bfloat16(Shape{shape[-1]});
      Tensor bias_grad = accumulate ? on_gpu(start) : poisoned(Shape{shape[-1]}, DType::kBFloat16);
      gpu().bias_add_backward(on_gpu(x), bias_grad, accumulate);
      Tensor expected_grad = as_float64(start);
      cpu().bias_add_backward(as_float64(x), expected_grad, accumulate);
      EXPECT_LE(relative_error(bias_grad, expected_grad), kBFloat16Bound) << accumulate;
    }
  }
}

TEST_F(CudaBFloat16Test, ActivationsForwardAndBackward) {
  for (ActivationKind kind :
       {ActivationKind::kLinear, ActivationKind::kRelu, ActivationKind::kSigmoid,
        ActivationKind::kTanh, ActivationKind::kSoftmax, ActivationKind::kGelu}) {
    const Activation activation{kind, 0.0};
    for (const Shape& shape : {Shape{37, 129}, Shape{4, 1025}}) {
      SCOPED_TRACE(std::string(backend::activation_name(kind)) + " " + shape.to_string());
      Tensor x = random_bfloat16(shape, -3.0, 3.0);
      Tensor y = poisoned(shape, DType::kBFloat16);
      gpu().activation_forward(activation, on_gpu(x), y);
      Tensor expected_y = Tensor::zeros(shape, DType::kFloat64);
      cpu().activation_forward(activation, as_float64(x), expected_y);
      EXPECT_LE(relative_error(y, expected_y), kBFloat16Bound);

      Tensor y_grad = random_bfloat16(shape);
      Tensor start = random_bfloat16(shape);
      Tensor x_grad = on_gpu(start);
      gpu().activation_backward(activation, on_gpu(x), y, on_gpu(y_grad), x_grad, true);
      Tensor expected_grad = as_float64(start);
      cpu().activation_backward(activation, as_float64(x), as_float64(y), as_float64(y_grad),
                                expected_grad, true);
      EXPECT_LE(relative_error(x_grad, expected_grad), kBFloat16Bound);
    }
  }
}

TEST_F(CudaBFloat16Test, BiasActivationBackwardInPlace) {
  const Activation relu{ActivationKind::kRelu, 0.0};
  const Shape shape{600, 33};
  Tensor y = random_bfloat16(shape, 0.0, 2.0);
  Tensor grad = random_bfloat16(shape);
  Tensor gpu_grad = on_gpu(grad);
  Tensor bias_grad = poisoned(Shape{33}, DType::kBFloat16);
  gpu().bias_activation_backward(relu, on_gpu(y), gpu_grad, gpu_grad, bias_grad, false);
  Tensor expected_grad = as_float64(grad);
  Tensor expected_bias = Tensor::zeros(Shape{33}, DType::kFloat64);
  cpu().bias_activation_backward(relu, as_float64(y), expected_grad, expected_grad, expected_bias,
                                 false);
  EXPECT_LE(relative_error(gpu_grad, expected_grad), kBFloat16Bound);
  EXPECT_LE(relative_error(bias_grad, expected_bias), kBFloat16Bound);
}

TEST_F(CudaBFloat16Test, DropoutGivesTheCpuBits) {
  Tensor x = random_bfloat16(Shape{10007}, 0.5, 1.5);
  Tensor expected = Tensor::zeros(x.shape(), DType::kBFloat16);
  cpu().dropout_forward(0.3, 42, 7, x, expected);
  Tensor got = poisoned(x.shape(), DType::kBFloat16);
  gpu().dropout_forward(0.3, 42, 7, on_gpu(x), got);
  EXPECT_TRUE(same_bits(got, expected));

  Tensor start = random_bfloat16(x.shape());
  Tensor expected_grad = start.clone();
  cpu().dropout_backward(0.3, 42, 7, x, expected_grad, true);
  Tensor grad = on_gpu(start);
  gpu().dropout_backward(0.3, 42, 7, on_gpu(x), grad, true);
  EXPECT_TRUE(same_bits(grad, expected_grad));
}

TEST_F(CudaBFloat16Test, CopyAccumulatesAndFillRounds) {
  Tensor a = random_bfloat16(Shape{1000});
  Tensor b = random_bfloat16(Shape{1000});
  Tensor expected = b.clone();
  cpu().copy(a, expected, true);
  Tensor got = on_gpu(b);
  gpu().copy(on_gpu(a), got, true);
  EXPECT_TRUE(same_bits(got, expected));

  const double value = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30);
  Tensor filled = poisoned(Shape{5}, DType::kBFloat16);
  gpu().fill(filled, value);
  Tensor expected_fill = Tensor::zeros(Shape{5}, DType::kBFloat16);
  cpu().fill(expected_fill, value);
  EXPECT_TRUE(same_bits(filled, expected_fill));
}

TEST_F(CudaBFloat16Test, EntriesWithoutBFloat16NameThemselves) {
  Tensor x = on_gpu(random_bfloat16(Shape{4, 3}));
  Tensor gamma = on_gpu(random_bfloat16(Shape{3}));
  Tensor y = poisoned(Shape{4, 3}, DType::kBFloat16);
  try {
    gpu().layer_norm_forward(x, gamma, gamma, 1e-3, y);
    FAIL() << "layer_norm_forward accepted bfloat16";
  } catch (const ValueError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("layer_norm"), std::string::npos) << message;
    EXPECT_NE(message.find("bfloat16"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace trainyard::cuda_test
