// Convolution and pooling against hand-worked values and an independent direct convolution
// written here from Keras's output-size and padding rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backend/backend.h"
#include "core/random.h"
#include "core/thread_pool.h"

namespace trainyard::backend {
namespace {

Tensor iota(const Shape& shape) {
  Tensor t = Tensor::zeros(shape);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = static_cast<float>(i + 1);
  return t;
}

TEST(WindowTest, KerasOutputSizesAndPaddingSplit) {
  // same: out = ceil(n / s); total pad = max(0, (out - 1) * s + k - n), extra goes after.
  Window2d w = make_window2d("t", 1, 7, 6, 1,
                             {.window_height = 4,
                              .window_width = 3,
                              .stride_height = 2,
                              .stride_width = 2,
                              .padding = Padding::kSame});
  EXPECT_EQ(w.out_height, 4);  // ceil(7 / 2)
  EXPECT_EQ(w.pad_top + w.pad_bottom, 3 * 2 + 4 - 7);
  EXPECT_EQ(w.pad_top, 1);
  EXPECT_EQ(w.pad_bottom, 2);
  EXPECT_EQ(w.out_width, 3);
  EXPECT_EQ(w.pad_left, 0);  // total (3-1)*2+3-6 = 1: all after
  EXPECT_EQ(w.pad_right, 1);
  // valid: floor((n - d(k-1) - 1) / s) + 1
  Window2d v = make_window2d(
      "t", 1, 10, 10, 1,
      {.window_height = 3, .window_width = 3, .dilation_height = 2, .dilation_width = 2});
  EXPECT_EQ(v.out_height, (10 - 2 * 2 - 1) / 1 + 1);
  EXPECT_THROW(make_window2d("conv", 1, 2, 2, 1, {.window_height = 3, .window_width = 3}),
               ShapeError);
  EXPECT_THROW(
      make_window2d(
          "conv", 1, 9, 9, 1,
          {.window_height = 3, .window_width = 3, .stride_height = 2, .dilation_height = 2}),
      ValueError);
  Window2d causal = make_window2d(
      "t", 1, 1, 8, 1,
      {.window_height = 1, .window_width = 3, .dilation_width = 2, .padding = Padding::kCausal});
  EXPECT_EQ(causal.out_width, 8);
  EXPECT_EQ(causal.pad_left, 4);
  EXPECT_EQ(causal.pad_right, 0);
  EXPECT_THROW(parse_padding("full"), ValueError);
}

TEST(ConvTest, SameWithEvenKernelPadsBottomRight) {
  // Input 1..9 as 3x3, kernel 2x2 of ones, same: pads 0 before, 1 after.
  Window2d w = make_window2d("t", 1, 3, 3, 1,
                             {.window_height = 2, .window_width = 2, .padding = Padding::kSame});
  Tensor x = iota({1, 3, 3, 1});
  Tensor kernel = Tensor::zeros({2, 2, 1, 1});
  kernel.fill(1);
  Tensor y = Tensor::zeros({1, 3, 3, 1});
  cpu_backend().conv2d_forward(w, x, kernel, y);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{12, 16, 9, 24, 28, 15, 15, 17, 9}));
}

TEST(PoolTest, SamePaddingNeverCountsPaddedPositions) {
  Window2d w = make_window2d("t", 1, 3, 3, 1,
                             {.window_height = 2,
                              .window_width = 2,
                              .stride_height = 2,
                              .stride_width = 2,
                              .padding = Padding::kSame});
  Tensor x = iota({1, 3, 3, 1});
  Tensor average = Tensor::zeros({1, 2, 2, 1});
  Tensor maximum = Tensor::zeros({1, 2, 2, 1});
  cpu_backend().pool2d_forward(PoolKind::kAverage, w, x, average);
  cpu_backend().pool2d_forward(PoolKind::kMax, w, x, maximum);
  EXPECT_EQ(average.to_vector<float>(), (std::vector<float>{3, 4.5, 7.5, 9}));
  EXPECT_EQ(maximum.to_vector<float>(), (std::vector<float>{5, 6, 8, 9}));
  // Negative inputs: a padded zero must not win the max.
  Tensor negative = x.clone();
  for (int64_t i = 0; i < 9; ++i) negative.data<float>()[i] = -negative.data<float>()[i];
  cpu_backend().pool2d_forward(PoolKind::kMax, w, negative, maximum);
  EXPECT_EQ(maximum.to_vector<float>(), (std::vector<float>{-1, -3, -7, -9}));
}

// Direct convolution in double, padding computed here from the Keras rule.
std::vector<double> reference_conv(const Tensor& x, const Tensor& kernel, int64_t sh, int64_t sw,
                                   int64_t dh, int64_t dw, bool same, int64_t* out_h,
                                   int64_t* out_w) {
  int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  int64_t kh = kernel.shape()[0], kw = kernel.shape()[1], f = kernel.shape()[3];
  int64_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
  int64_t oh = same ? (h + sh - 1) / sh : (h - eh) / sh + 1;
  int64_t ow = same ? (w + sw - 1) / sw : (w - ew) / sw + 1;
  int64_t top = same ? std::max<int64_t>(0, (oh - 1) * sh + eh - h) / 2 : 0;
  int64_t left = same ? std::max<int64_t>(0, (ow - 1) * sw + ew - w) / 2 : 0;
  *out_h = oh;
  *out_w = ow;
  std::vector<double> y(static_cast<size_t>(n * oh * ow * f), 0.0);
  const float* xs = x.data<float>();
  const float* ks = kernel.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          double sum = 0;
          for (int64_t p = 0; p < kh; ++p)
            for (int64_t q = 0; q < kw; ++q)
              for (int64_t ch = 0; ch < c; ++ch) {
                int64_t ih = i * sh - top + p * dh, iw = j * sw - left + q * dw;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                sum += double(xs[((b * h + ih) * w + iw) * c + ch]) *
                       double(ks[((p * kw + q) * c + ch) * f + o]);
              }
          y[static_cast<size_t>(((b * oh + i) * ow + j) * f + o)] = sum;
        }
  return y;
}

TEST(ConvTest, MatchesDirectConvolutionOnOneAndTwoThreads) {
  struct Case {
    Shape input;
    int64_t kh, kw, f, sh, sw, dh, dw;
    bool same;
  };
  for (const Case& c : {Case{{3, 11, 9, 4}, 3, 3, 8, 1, 1, 1, 1, false},
                        Case{{2, 8, 7, 3}, 4, 4, 5, 2, 2, 1, 1, true},
                        Case{{2, 13, 12, 2}, 3, 2, 3, 1, 1, 2, 3, true},
                        Case{{70, 6, 6, 3}, 3, 3, 4, 1, 1, 1, 1, true},
                        Case{{4, 5, 5, 6}, 1, 1, 7, 1, 1, 1, 1, false}}) {
    Tensor x = Tensor::zeros(c.input);
    Tensor kernel = Tensor::zeros({c.kh, c.kw, c.input[3], c.f});
    RandomGenerator generator(9);
    for (int64_t i = 0; i < x.num_elements(); ++i)
      x.data<float>()[i] = float(generator.uniform() - 0.5);
    for (int64_t i = 0; i < kernel.num_elements(); ++i) {
      kernel.data<float>()[i] = float(generator.uniform() - 0.5);
    }
    int64_t oh = 0, ow = 0;
    std::vector<double> expected =
        reference_conv(x, kernel, c.sh, c.sw, c.dh, c.dw, c.same, &oh, &ow);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Window2d w = make_window2d("t", c.input[0], c.input[1], c.input[2], c.input[3],
                                 {.window_height = c.kh,
                                  .window_width = c.kw,
                                  .stride_height = c.sh,
                                  .stride_width = c.sw,
                                  .dilation_height = c.dh,
                                  .dilation_width = c.dw,
                                  .padding = c.same ? Padding::kSame : Padding::kValid});
      ASSERT_EQ(w.out_height, oh);
      ASSERT_EQ(w.out_width, ow);
      Tensor y = Tensor::zeros({c.input[0], oh, ow, c.f});
      cpu_backend().conv2d_forward(w, x, kernel, y);
      for (size_t i = 0; i < expected.size(); ++i) {
        ASSERT_NEAR(y.data<float>()[i], expected[i], 1e-4) << "element " << i;
      }
    }
  }
  set_num_threads(2);
}

TEST(ConvTest, ShapeErrorsNameTheEntry) {
  Window2d w = make_window2d("t", 1, 4, 4, 2, {.window_height = 3, .window_width = 3});
  Tensor y = Tensor::zeros({1, 2, 2, 3});
  try {
    cpu_backend().conv2d_forward(w, Tensor::zeros({1, 4, 4, 3}), Tensor::zeros({3, 3, 2, 3}), y);
    FAIL();
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("conv2d_forward"), std::string::npos);
  }
}

}  // namespace
}  // namespace trainyard::backend
