// The fused entries against the unfused ones they replace: conv2d_bias_activation_forward gives
// the same bits as conv2d_forward + bias_add + activation_forward on every convolution path
// (direct, Winograd, im2col), and bias_activation_backward gives activation_backward's bits
// for z_grad, in place or not, with a bias gradient that matches a float64 sum and is the same
// bits on one and two threads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::Activation;
using backend::ActivationKind;
using backend::make_window2d;
using backend::Padding;
using backend::Window2d;
using backend::WindowOptions;

template <typename T>
class ConvFusedTest : public ::testing::Test {};
TYPED_TEST_SUITE(ConvFusedTest, FloatTypes);

struct FusedCase {
  const char* name;
  Shape input;  // [N, H, W, C]
  int64_t filters;
  WindowOptions options;
};

const FusedCase kFusedCases[] = {
    {"first_layer_c1", {3, 9, 10, 1}, 32, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"winograd_c32_f64", {2, 7, 8, 32}, 64, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"winograd_filters_not_whole_vectors", {2, 9, 7, 20}, 21, {3, 3, 1, 1, 1, 1, Padding::kSame}},
    {"filters_not_whole_vectors", {2, 6, 7, 5}, 21, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"several_filter_blocks", {1, 5, 6, 3}, 70, {3, 2, 1, 1, 1, 1, Padding::kValid}},
    {"strided_same", {2, 9, 8, 3}, 5, {3, 3, 2, 2, 1, 1, Padding::kSame}},
    {"pointwise_gemm", {2, 4, 4, 6}, 8, {1, 1, 1, 1, 1, 1, Padding::kValid}},
    {"deep_kernel_im2col", {2, 5, 5, 128}, 64, {3, 3, 1, 1, 1, 1, Padding::kSame}},
};

const Activation kForwardActivations[] = {
    {ActivationKind::kLinear}, {ActivationKind::kRelu}, {ActivationKind::kSigmoid},
    {ActivationKind::kTanh},   {ActivationKind::kGelu},
};

TYPED_TEST(ConvFusedTest, ForwardIsTheUnfusedCallsBits) {
  using T = TypeParam;
  for (const FusedCase& c : kFusedCases) {
    SCOPED_TRACE(c.name);
    Window2d w = make_window2d(c.name, c.input[0], c.input[1], c.input[2], c.input[3], c.options);
    Shape kernel_shape{c.options.window_height, c.options.window_width, c.input[3], c.filters};
    Shape out_shape{w.batch, w.out_height, w.out_width, c.filters};
    Tensor x = tensor_of<T>(c.input, sample_values(c.input.num_elements(), 11, -1, 1));
    Tensor kernel =
        tensor_of<T>(kernel_shape, sample_values(kernel_shape.num_elements(), 12, -1, 1));
    Tensor bias = tensor_of<T>(Shape{c.filters}, sample_values(c.filters, 13, -1, 1));
    for (const Activation& activation : kForwardActivations) {
      for (bool with_bias : {false, true}) {
        SCOPED_TRACE(std::string(backend::activation_name(activation.kind)) +
                     (with_bias ? " with bias" : " without bias"));
        Tensor expected = Tensor::zeros(out_shape, dtype_of<T>());
        cpu().conv2d_forward(w, x, kernel, expected);
        if (with_bias) cpu().bias_add(expected, bias, expected);
        cpu().activation_forward(activation, expected, expected);
        for (int threads : {1, 2}) {
          ThreadCountScope scope(threads);
          Tensor y = tensor_of<T>(out_shape, std::vector<double>(out_shape.num_elements(), 7.0));
          cpu().conv2d_bias_activation_forward(w, activation, x, kernel,
                                               with_bias ? bias : Tensor(), y);
          EXPECT_TRUE(bitwise_equal(y, expected)) << "threads " << threads;
        }
      }
    }
  }
}

TEST(ConvFusedErrorsTest, ForwardRejectsSoftmaxAndAMismatchedBias) {
  Window2d w = make_window2d("t", 1, 4, 4, 2, {.window_height = 3, .window_width = 3});
  Tensor x = Tensor::zeros({1, 4, 4, 2});
  Tensor kernel = Tensor::zeros({3, 3, 2, 3});
  Tensor y = Tensor::zeros({1, 2, 2, 3});
  EXPECT_THROW(cpu().conv2d_bias_activation_forward(w, {ActivationKind::kSoftmax}, x, kernel,
                                                    Tensor::zeros({3}), y),
               ValueError);
  EXPECT_THROW(cpu().conv2d_bias_activation_forward(w, {ActivationKind::kRelu}, x, kernel,
                                                    Tensor::zeros({4}), y),
               ShapeError);
}

// [rows, C] cases: several row chunks, and rows narrower or wider than a vector.
const Shape kBackwardShapes[] = {{3000, 37}, {5, 3}, {64, 26, 26, 32}};

TYPED_TEST(ConvFusedTest, BackwardIsActivationBackwardPlusAFloat64BiasSum) {
  using T = TypeParam;
  for (const Shape& shape : kBackwardShapes) {
    SCOPED_TRACE(shape.to_string());
    const int64_t columns = shape[-1];
    const int64_t rows = shape.num_elements() / columns;
    // Pre-activations with exact zeros and ties, so ReLU's z > 0 versus y > 0 is exercised.
    auto z_values = sample_values(shape.num_elements(), 14, -2, 2);
    for (size_t i = 0; i < z_values.size(); i += 7) z_values[i] = 0.0;
    Tensor z = tensor_of<T>(shape, z_values);
    Tensor y_grad = tensor_of<T>(shape, sample_values(shape.num_elements(), 15, -1, 1));
    auto start = sample_values(columns, 16, -1, 1);
    for (ActivationKind kind : {ActivationKind::kLinear, ActivationKind::kRelu,
                                ActivationKind::kSigmoid, ActivationKind::kTanh}) {
      SCOPED_TRACE(std::string(backend::activation_name(kind)));
      Activation activation{kind};
      Tensor y = Tensor::zeros(shape, dtype_of<T>());
      cpu().activation_forward(activation, z, y);
      Tensor expected = Tensor::zeros(shape, dtype_of<T>());
      cpu().activation_backward(activation, z, y, y_grad, expected, false);
      std::vector<double> sums(static_cast<size_t>(columns), 0.0);
      auto widened = reals_of(expected);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < columns; ++j)
          sums[static_cast<size_t>(j)] += static_cast<double>(widened[r * columns + j]);

      std::vector<Tensor> bias_grads;
      for (int threads : {1, 2}) {
        ThreadCountScope scope(threads);
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE("threads " + std::to_string(threads) + (accumulate ? " add" : " overwrite"));
          Tensor bias_grad = tensor_of<T>(
              Shape{columns}, accumulate ? start : std::vector<double>(start.size(), 9.0));
          Tensor z_grad = tensor_of<T>(shape, std::vector<double>(shape.num_elements(), 5.0));
          cpu().bias_activation_backward(activation, y, y_grad, z_grad, bias_grad, accumulate);
          EXPECT_TRUE(bitwise_equal(z_grad, expected));
          auto begin = reals_of(tensor_of<T>(Shape{columns}, start));
          std::vector<double> offset =
              accumulate ? std::vector<double>(begin.begin(), begin.end()) : std::vector<double>{};
          for (int64_t j = 0; j < columns; ++j) {
            double want = sums[static_cast<size_t>(j)] + (accumulate ? offset[j] : 0.0);
            double got = static_cast<double>(reals_of(bias_grad)[j]);
            // Each column sums `rows` values in [-1, 1].
            double tolerance =
                (std::is_same_v<T, float> ? 1e-6 : 1e-14) * static_cast<double>(rows);
            EXPECT_NEAR(got, want, tolerance) << "column " << j;
          }
          if (!accumulate) bias_grads.push_back(bias_grad);
        }
      }
      EXPECT_TRUE(bitwise_equal(bias_grads[0], bias_grads[1])) << "one thread versus two";

      // In place, over y_grad itself, and without a bias gradient.
      Tensor in_place = y_grad.clone();
      cpu().bias_activation_backward(activation, y, in_place, in_place, Tensor(), false);
      EXPECT_TRUE(bitwise_equal(in_place, expected));
    }
  }
}

TEST(ConvFusedErrorsTest, BackwardNeedsADerivativeFromTheOutput) {
  Tensor y = Tensor::zeros({4, 3});
  EXPECT_THROW(cpu().bias_activation_backward({ActivationKind::kGelu}, y, y, y, Tensor(), false),
               ValueError);
  EXPECT_THROW(
      cpu().bias_activation_backward({ActivationKind::kRelu}, y, y, y, Tensor::zeros({4}), false),
      ShapeError);
}

}  // namespace
}  // namespace trainyard::backend_test
