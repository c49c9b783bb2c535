// The convolution entries (direct, Winograd and im2col kernels alike) and max pooling
// (forward and backward) against naive float64 loops written here from the definitions, over the
// shapes the kernels treat specially: one input channel, filter counts that are not whole vectors
// or span several register blocks, odd sizes, strides, dilation, same padding with even kernels,
// causal padding, accumulation, and one and two threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend_test_util.h"

namespace trainyard::backend_test {
namespace {

using backend::make_window2d;
using backend::Padding;
using backend::PoolKind;
using backend::Window2d;
using backend::WindowOptions;

struct ConvCase {
  const char* name;
  Shape input;  // [N, H, W, C]
  int64_t filters;
  WindowOptions options;
};

// The three products of a convolution, as float64 sums over every (pixel, tap) pair whose input
// position is inside x. y [N, OH, OW, F], x_grad like x, kernel_grad like the kernel.
struct Reference {
  std::vector<double> y, x_grad, kernel_grad;
};

Reference reference(const Window2d& w, int64_t filters, const std::vector<double>& x,
                    const std::vector<double>& kernel, const std::vector<double>& y_grad) {
  Reference r;
  r.y.assign(static_cast<size_t>(w.batch * w.out_height * w.out_width * filters), 0.0);
  r.x_grad.assign(x.size(), 0.0);
  r.kernel_grad.assign(kernel.size(), 0.0);
  const int64_t c_count = w.channels;
  for (int64_t n = 0; n < w.batch; ++n)
    for (int64_t oh = 0; oh < w.out_height; ++oh)
      for (int64_t ow = 0; ow < w.out_width; ++ow)
        for (int64_t kh = 0; kh < w.window_height; ++kh)
          for (int64_t kw = 0; kw < w.window_width; ++kw) {
            int64_t ih = oh * w.stride_height - w.pad_top + kh * w.dilation_height;
            int64_t iw = ow * w.stride_width - w.pad_left + kw * w.dilation_width;
            if (ih < 0 || ih >= w.in_height || iw < 0 || iw >= w.in_width) continue;
            for (int64_t c = 0; c < c_count; ++c)
              for (int64_t f = 0; f < filters; ++f) {
                size_t xi =
                    static_cast<size_t>(((n * w.in_height + ih) * w.in_width + iw) * c_count + c);
                size_t ki =
                    static_cast<size_t>(((kh * w.window_width + kw) * c_count + c) * filters + f);
                size_t yi =
                    static_cast<size_t>(((n * w.out_height + oh) * w.out_width + ow) * filters + f);
                r.y[yi] += x[xi] * kernel[ki];
                r.x_grad[xi] += y_grad[yi] * kernel[ki];
                r.kernel_grad[ki] += y_grad[yi] * x[xi];
              }
          }
  return r;
}

// |got - expected| within a relative tolerance of the sum of |terms| (bounded here by `scale`).
template <typename T>
::testing::AssertionResult matches(const Tensor& got, const std::vector<double>& expected,
                                   const std::vector<double>& start, double scale,
                                   const std::string& what) {
  const double tolerance = (std::is_same_v<T, float> ? 2e-5 : 1e-12) * scale;
  for (size_t i = 0; i < expected.size(); ++i) {
    double value = static_cast<double>(got.data<T>()[i]);
    double want = expected[i] + (start.empty() ? 0.0 : start[i]);
    if (!(std::fabs(value - want) <= tolerance)) {
      return ::testing::AssertionFailure() << what << " element " << i << ": got " << value
                                           << ", reference " << want << ", tolerance " << tolerance;
    }
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
class ConvDirectTest : public ::testing::Test {};
TYPED_TEST_SUITE(ConvDirectTest, FloatTypes);

const ConvCase kConvCases[] = {
    {"first_layer_c1", {3, 9, 10, 1}, 32, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"c32_f64", {2, 7, 8, 32}, 64, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"filters_not_whole_vectors", {2, 6, 7, 5}, 21, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    {"several_filter_blocks", {1, 5, 6, 3}, 70, {3, 2, 1, 1, 1, 1, Padding::kValid}},
    {"same_even_kernel", {2, 7, 6, 4}, 6, {4, 2, 1, 1, 1, 1, Padding::kSame}},
    {"same_odd_kernel", {2, 9, 5, 3}, 17, {3, 3, 1, 1, 1, 1, Padding::kSame}},
    {"strided_same", {2, 9, 8, 3}, 5, {3, 3, 2, 2, 1, 1, Padding::kSame}},
    {"strided_valid_uneven", {1, 11, 9, 2}, 33, {3, 2, 3, 2, 1, 1, Padding::kValid}},
    {"dilated_same", {2, 9, 10, 3}, 7, {3, 3, 1, 1, 2, 3, Padding::kSame}},
    {"dilated_valid", {1, 10, 9, 2}, 16, {2, 3, 1, 1, 3, 2, Padding::kValid}},
    {"causal_1d", {2, 1, 13, 4}, 9, {1, 3, 1, 1, 1, 2, Padding::kCausal}},
    {"pointwise_strided", {2, 7, 7, 6}, 8, {1, 1, 2, 2, 1, 1, Padding::kValid}},
    {"wide_rows", {1, 4, 40, 2}, 12, {3, 3, 1, 1, 1, 1, Padding::kSame}},
    {"window_wider_than_some_outputs", {1, 3, 3, 2}, 4, {5, 5, 1, 1, 1, 1, Padding::kSame}},
    // 3x3, stride 1, at least 16 channels in and out: Winograd, with tiles cut at odd edges.
    {"winograd_same_odd_sizes", {2, 9, 7, 20}, 24, {3, 3, 1, 1, 1, 1, Padding::kSame}},
    {"winograd_valid", {3, 8, 11, 16}, 16, {3, 3, 1, 1, 1, 1, Padding::kValid}},
    // A weight slice too large for the direct tiles: im2col + GEMM.
    {"deep_kernel_im2col", {2, 5, 5, 128}, 64, {3, 3, 1, 1, 1, 1, Padding::kSame}},
};

TYPED_TEST(ConvDirectTest, MatchesFloat64Reference) {
  using T = TypeParam;
  for (const ConvCase& c : kConvCases) {
    SCOPED_TRACE(c.name);
    Window2d w = make_window2d(c.name, c.input[0], c.input[1], c.input[2], c.input[3], c.options);
    Shape kernel_shape{c.options.window_height, c.options.window_width, c.input[3], c.filters};
    Shape out_shape{w.batch, w.out_height, w.out_width, c.filters};
    auto x_values = sample_values(c.input.num_elements(), 1, -1, 1);
    auto kernel_values = sample_values(kernel_shape.num_elements(), 2, -1, 1);
    auto grad_values = sample_values(out_shape.num_elements(), 3, -1, 1);
    Tensor x = tensor_of<T>(c.input, x_values);
    Tensor kernel = tensor_of<T>(kernel_shape, kernel_values);
    Tensor y_grad = tensor_of<T>(out_shape, grad_values);
    // The reference sees exactly the rounded values the kernels see.
    auto widen = [](const Tensor& t) {
      std::vector<double> out;
      for (auto v : reals_of(t)) out.push_back(static_cast<double>(v));
      return out;
    };
    Reference r = reference(w, c.filters, widen(x), widen(kernel), widen(y_grad));
    // Each output sums at most this many products of values in [-1, 1].
    const double scale = static_cast<double>(
        std::max({kernel_shape.num_elements() / c.filters, out_shape.num_elements() / c.filters,
                  c.options.window_height * c.options.window_width * c.filters}));
    auto x_start = sample_values(c.input.num_elements(), 4, -1, 1);
    auto kernel_start = sample_values(kernel_shape.num_elements(), 5, -1, 1);
    for (int threads : {1, 2}) {
      ThreadCountScope scope(threads);
      SCOPED_TRACE("threads " + std::to_string(threads));
      Tensor y = tensor_of<T>(out_shape, std::vector<double>(out_shape.num_elements(), 7.0));
      cpu().conv2d_forward(w, x, kernel, y);
      EXPECT_TRUE(matches<T>(y, r.y, {}, scale, "forward"));
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
        Tensor x_grad =
            tensor_of<T>(c.input, accumulate ? x_start : std::vector<double>(x_start.size(), 7.0));
        cpu().conv2d_backward_input(w, y_grad, kernel, x_grad, accumulate);
        EXPECT_TRUE(
            matches<T>(x_grad, r.x_grad,
                       accumulate ? widen(tensor_of<T>(c.input, x_start)) : std::vector<double>{},
                       scale, "backward_input"));
        Tensor kernel_grad =
            tensor_of<T>(kernel_shape,
                         accumulate ? kernel_start : std::vector<double>(kernel_start.size(), 7.0));
        cpu().conv2d_backward_kernel(w, x, y_grad, kernel_grad, accumulate);
        EXPECT_TRUE(matches<T>(
            kernel_grad, r.kernel_grad,
            accumulate ? widen(tensor_of<T>(kernel_shape, kernel_start)) : std::vector<double>{},
            scale, "backward_kernel"));
      }
    }
  }
}

TYPED_TEST(ConvDirectTest, KernelGradientIsTheSameBitsOnOneAndTwoThreads) {
  using T = TypeParam;
  // The first layer of the benchmark CNN (direct kernel) and its second (Winograd).
  for (auto [input, filters] : {std::pair<Shape, int64_t>{{16, 28, 28, 1}, 32},
                                std::pair<Shape, int64_t>{{16, 13, 13, 32}, 64}}) {
    Window2d w = make_window2d("t", input[0], input[1], input[2], input[3],
                               {.window_height = 3, .window_width = 3});
    Shape out_shape{w.batch, w.out_height, w.out_width, filters};
    Tensor x = tensor_of<T>(input, sample_values(input.num_elements(), 6, -1, 1));
    Tensor y_grad = tensor_of<T>(out_shape, sample_values(out_shape.num_elements(), 7, -1, 1));
    Tensor one = Tensor::zeros({3, 3, input[3], filters}, dtype_of<T>());
    Tensor two = Tensor::zeros({3, 3, input[3], filters}, dtype_of<T>());
    {
      ThreadCountScope scope(1);
      cpu().conv2d_backward_kernel(w, x, y_grad, one, false);
    }
    {
      ThreadCountScope scope(2);
      cpu().conv2d_backward_kernel(w, x, y_grad, two, false);
    }
    EXPECT_TRUE(bitwise_equal(one, two)) << input.to_string();
  }
}

// Max pooling: y is each window's maximum over the positions inside x; the backward routes
// each window's gradient to its first maximum, in row-major window order, and every other
// position of x_grad gets 0 (or keeps its value when accumulating).
std::vector<double> reference_max_pool_backward(const Window2d& w, const std::vector<double>& x,
                                                const std::vector<double>& y_grad,
                                                std::vector<double>* y) {
  std::vector<double> x_grad(x.size(), 0.0);
  y->assign(y_grad.size(), 0.0);
  const int64_t c_count = w.channels;
  for (int64_t n = 0; n < w.batch; ++n)
    for (int64_t oh = 0; oh < w.out_height; ++oh)
      for (int64_t ow = 0; ow < w.out_width; ++ow)
        for (int64_t c = 0; c < c_count; ++c) {
          double best = -INFINITY;
          int64_t at = -1;
          for (int64_t kh = 0; kh < w.window_height; ++kh)
            for (int64_t kw = 0; kw < w.window_width; ++kw) {
              int64_t ih = oh * w.stride_height - w.pad_top + kh;
              int64_t iw = ow * w.stride_width - w.pad_left + kw;
              if (ih < 0 || ih >= w.in_height || iw < 0 || iw >= w.in_width) continue;
              int64_t index = ((n * w.in_height + ih) * w.in_width + iw) * c_count + c;
              if (x[static_cast<size_t>(index)] > best) {
                best = x[static_cast<size_t>(index)];
                at = index;
              }
            }
          size_t out =
              static_cast<size_t>(((n * w.out_height + oh) * w.out_width + ow) * c_count + c);
          x_grad[static_cast<size_t>(at)] += y_grad[out];
          (*y)[out] = best;
        }
  return x_grad;
}

template <typename T>
class MaxPoolBackwardTest : public ::testing::Test {};
TYPED_TEST_SUITE(MaxPoolBackwardTest, FloatTypes);

TYPED_TEST(MaxPoolBackwardTest, TakesTheMaximumAndRoutesToTheFirstOne) {
  using T = TypeParam;
  struct PoolCase {
    const char* name;
    Shape input;
    WindowOptions options;
  };
  const PoolCase cases[] = {
      {"even_2x2", {3, 8, 6, 32}, {2, 2, 2, 2, 1, 1, Padding::kValid}},
      {"odd_leaves_last_row_and_column", {2, 11, 11, 64}, {2, 2, 2, 2, 1, 1, Padding::kValid}},
      {"same_padding", {2, 5, 7, 3}, {2, 2, 2, 2, 1, 1, Padding::kSame}},
      {"gaps_between_windows", {1, 9, 10, 5}, {2, 2, 3, 4, 1, 1, Padding::kValid}},
      {"overlapping_3x3_stride_2", {2, 9, 8, 6}, {3, 3, 2, 2, 1, 1, Padding::kValid}},
      {"overlapping_same_stride_1", {1, 5, 6, 4}, {3, 2, 1, 1, 1, 1, Padding::kSame}},
      {"many_channels", {1, 4, 4, 300}, {2, 2, 2, 2, 1, 1, Padding::kValid}},
      // An output row of 150 * 32 values: routed window by window, not row by row.
      {"wide_output_rows", {1, 4, 300, 32}, {2, 2, 2, 2, 1, 1, Padding::kValid}},
  };
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(c.name);
    Window2d w = make_window2d(c.name, c.input[0], c.input[1], c.input[2], c.input[3], c.options);
    Shape out_shape{w.batch, w.out_height, w.out_width, w.channels};
    // Values from a small set, so windows often hold the maximum twice.
    auto x_values = sample_values(c.input.num_elements(), 8, 0, 4);
    for (auto& v : x_values) v = std::floor(v);
    auto grad_values = sample_values(out_shape.num_elements(), 9, -1, 1);
    Tensor x = tensor_of<T>(c.input, x_values);
    Tensor y = Tensor::zeros(out_shape, dtype_of<T>());
    Tensor y_grad = tensor_of<T>(out_shape, grad_values);
    cpu().pool2d_forward(PoolKind::kMax, w, x, y);
    auto widened_grad = reals_of(y_grad);
    std::vector<double> grad(widened_grad.begin(), widened_grad.end());
    std::vector<double> maxima;
    std::vector<double> expected = reference_max_pool_backward(w, x_values, grad, &maxima);
    EXPECT_TRUE(matches<T>(y, maxima, {}, 1.0, "forward"));
    auto start = sample_values(c.input.num_elements(), 10, -1, 1);
    for (int threads : {1, 2}) {
      ThreadCountScope scope(threads);
      for (bool accumulate : {false, true}) {
        Tensor x_grad =
            tensor_of<T>(c.input, accumulate ? start : std::vector<double>(start.size(), 5.0));
        cpu().pool2d_backward(PoolKind::kMax, w, x, y, y_grad, x_grad, accumulate);
        auto begin = reals_of(tensor_of<T>(c.input, start));
        std::vector<double> offset =
            accumulate ? std::vector<double>(begin.begin(), begin.end()) : std::vector<double>{};
        EXPECT_TRUE(matches<T>(x_grad, expected, offset, 4.0, accumulate ? "add" : "overwrite"))
            << "threads " << threads;
      }
    }
  }
}

}  // namespace
}  // namespace trainyard::backend_test
