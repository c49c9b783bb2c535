// Direct convolution, forward and input gradient. A tile is up to 14 consecutive output pixels
// of one row times up to 4 vectors of filters, accumulated in registers over every tap
// (kh, kw, c): per tap, the tile loads its filters' weights once and broadcasts each pixel's
// input, so an FMA needs no more than one load. Rows (n, oh) run in parallel.
#include "backend/cpu/conv_direct.h"

#include <algorithm>

#include "backend/cpu/conv_tile.h"
#include "backend/cpu/conv_winograd.h"
#include "backend/cpu/simd.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {
namespace {

using simd::kLanes;
using simd::Vec;

// Largest weight slice [K, block] a tile may stream: beyond it, im2col + GEMM blocks K better.
constexpr int64_t kMaxTileWeightBytes = int64_t{256} << 10;
// Below this many multiply-adds a convolution runs on one thread.
constexpr int64_t kParallelMultiplyAdds = int64_t{1} << 16;

// The taps k in [begin, end) of a window starting at `start` with `dilation` that land in
// [0, size).
struct TapRange {
  int64_t begin, end;
};
TapRange tap_range(int64_t start, int64_t dilation, int64_t taps, int64_t size) {
  int64_t begin = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  int64_t end = size - start <= 0 ? 0 : std::min(taps, (size - start + dilation - 1) / dilation);
  return {begin, std::max(begin, end)};
}

// Elements of the copy of x that forward_packed makes when the window pads left or right.
int64_t width_padded_size(const Window2d& w) {
  if (w.pad_left == 0 && w.pad_right == 0) return 0;
  return w.batch * w.in_height * (w.in_width + w.pad_left + w.pad_right) * w.channels;
}

// x [N, H, W, C] copied into [N, H, W + left + right, C] with zero columns on both sides.
template <typename T>
void pad_width(const Window2d& w, const T* x, T* padded) {
  const int64_t c = w.channels;
  const int64_t width = w.in_width + w.pad_left + w.pad_right;
  parallel_range(w.batch * w.in_height, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      T* out = padded + row * width * c;
      const T* in = x + row * w.in_width * c;
      std::fill(out, out + w.pad_left * c, T(0));
      std::copy(in, in + w.in_width * c, out + w.pad_left * c);
      std::fill(out + (w.pad_left + w.in_width) * c, out + width * c, T(0));
    }
  });
}

// y [N, OH, OW, filters] = x convolved with weights packed as [KH * KW * C, weight_stride]
// (weight_stride a whole number of vectors, the columns past `filters` zero or ignored). Rows
// of the window that fall in the top or bottom padding are skipped; left and right padding
// become zero columns of a copy in `padded` (width_padded_size(w) elements), so every tile
// spans whole window rows. Each tile stores its sums as `output` says.
template <typename T>
void forward_packed(Window2d w, const T* x, const T* weights, int64_t weight_stride,
                    int64_t filters, T* y, const ConvOutput<T>& output, T* padded) {
  if (width_padded_size(w) > 0) {
    pad_width(w, x, padded);
    x = padded;
    w.in_width += w.pad_left + w.pad_right;
    w.pad_left = w.pad_right = 0;
  }
  const int64_t lanes = kLanes<T>;
  const int64_t vectors = weight_stride / lanes;
  const int64_t c = w.channels;
  // Without left or right padding every output column's window row lies inside the input.
  TY_CHECK((w.out_width - 1) * w.stride_width + w.effective_width() <= w.in_width,
           "direct convolution: the window leaves the input");

  ForwardTile<T> t{};
  t.pixel_step = w.stride_width * c;
  t.tap_row_step = w.dilation_height * w.in_width * c;
  t.tap_column_step = w.dilation_width * c;
  t.channels = c;
  t.window_width = w.window_width;
  t.weight_stride = weight_stride;
  t.y_pixel_step = filters;
  t.accumulate = output.accumulate;
  t.relu = output.relu;

  const int64_t rows = w.batch * w.out_height;
  const int64_t row_work = w.out_width * w.window_height * w.window_width * c * filters;
  const int64_t grain =
      std::max<int64_t>(1, kParallelMultiplyAdds / std::max<int64_t>(row_work, 1));
  parallel_range(rows, grain, [&](int64_t begin, int64_t end) {
    ForwardTile<T> tile = t;
    for (int64_t row = begin; row < end; ++row) {
      int64_t n = row / w.out_height, oh = row % w.out_height;
      int64_t ih0 = oh * w.stride_height - w.pad_top;
      TapRange kh = tap_range(ih0, w.dilation_height, w.window_height, w.in_height);
      tile.x = x + n * w.in_height * w.in_width * c;
      tile.kh_begin = kh.begin;
      tile.kh_end = kh.end;
      T* y_row = y + row * w.out_width * filters;
      for (int64_t first = 0; first < vectors; first += kMaxBlockVectors) {
        int block = static_cast<int>(std::min<int64_t>(kMaxBlockVectors, vectors - first));
        int64_t max_pixels = max_tile_pixels(block);
        tile.weights = weights + first * lanes;
        tile.valid = std::min(filters - first * lanes, block * lanes);
        tile.bias = output.bias != nullptr ? output.bias + first * lanes : nullptr;
        // Tiles of near-equal size: 13 pixels as 7 + 6, not 12 + 1.
        const int64_t tiles = (w.out_width + max_pixels - 1) / max_pixels;
        for (int64_t i = 0, ow = 0; i < tiles; ++i) {
          int64_t pixels = w.out_width / tiles + (i < w.out_width % tiles ? 1 : 0);
          tile.x_offset = (ih0 * w.in_width + ow * w.stride_width) * c;
          tile.y = y_row + ow * filters + first * lanes;
          run_forward_tile<T>(block, pixels, tile);
          ow += pixels;
        }
      }
    }
  });
}

template <typename T>
bool weight_slice_fits(int64_t depth, int64_t columns) {
  int64_t block =
      std::min<int64_t>(simd::padded_to_lanes<T>(columns), kMaxBlockVectors * kLanes<T>);
  return depth * block * static_cast<int64_t>(sizeof(T)) <= kMaxTileWeightBytes;
}

bool is_plain_gemm(const Window2d& w) {
  return w.window_height == 1 && w.window_width == 1 && w.stride_height == 1 &&
         w.stride_width == 1 && w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 &&
         w.pad_right == 0;
}

// The stride-1 forward window that computes the input gradient of `w` from y_grad.
Window2d transposed_window(const Window2d& w, int64_t filters) {
  Window2d t = w;
  t.in_height = w.out_height;
  t.in_width = w.out_width;
  t.channels = filters;
  t.out_height = w.in_height;
  t.out_width = w.in_width;
  t.pad_top = w.effective_height() - 1 - w.pad_top;
  t.pad_bottom = w.effective_height() - 1 - w.pad_bottom;
  t.pad_left = w.effective_width() - 1 - w.pad_left;
  t.pad_right = w.effective_width() - 1 - w.pad_right;
  return t;
}

}  // namespace

bool direct_forward_suits(const Window2d& window, int64_t filters) {
  int64_t depth = window.window_height * window.window_width * window.channels;
  return !is_plain_gemm(window) && weight_slice_fits<float>(depth, filters);
}

bool direct_backward_input_suits(const Window2d& window, int64_t filters) {
  if (is_plain_gemm(window) || window.stride_height != 1 || window.stride_width != 1) return false;
  Window2d t = transposed_window(window, filters);
  if (t.pad_top < 0 || t.pad_bottom < 0 || t.pad_left < 0 || t.pad_right < 0) return false;
  // The transposed window must give back exactly the input's size.
  if (t.in_height + t.pad_top + t.pad_bottom - t.effective_height() + 1 != window.in_height ||
      t.in_width + t.pad_left + t.pad_right - t.effective_width() + 1 != window.in_width) {
    return false;
  }
  int64_t depth = window.window_height * window.window_width * filters;
  return weight_slice_fits<float>(depth, window.channels);
}

bool direct_backward_kernel_suits(const Window2d& window) {
  return !is_plain_gemm(window);
}

template <typename T>
void direct_conv_forward(const Window2d& window, const T* x, const T* kernel, int64_t filters, T* y,
                         const ConvOutput<T>& output, Scratch& scratch) {
  const int64_t depth = window.window_height * window.window_width * window.channels;
  const int64_t stride = simd::padded_to_lanes<T>(filters);
  const int64_t packed_size = stride != filters ? depth * stride : 0;
  const bool winograd = winograd_suits(window, filters);
  const int64_t workspace =
      winograd ? winograd_workspace_size(window, stride) : width_padded_size(window);
  T* buffer = scratch.get<T>(static_cast<size_t>(packed_size + workspace));
  const T* weights = kernel;
  if (stride != filters) {
    // Pad each weight row to whole vectors so tiles never load past the kernel.
    T* packed = buffer;
    for (int64_t q = 0; q < depth; ++q) {
      std::copy(kernel + q * filters, kernel + (q + 1) * filters, packed + q * stride);
      std::fill(packed + q * stride + filters, packed + (q + 1) * stride, T(0));
    }
    weights = packed;
  }
  if (winograd) {
    winograd_forward(window, x, weights, stride, filters, y, output, buffer + packed_size);
    return;
  }
  forward_packed(window, x, weights, stride, filters, y, output, buffer + packed_size);
}

template <typename T>
void direct_conv_backward_input(const Window2d& window, const T* y_grad, const T* kernel,
                                int64_t filters, T* x_grad, bool accumulate, Scratch& scratch) {
  TY_CHECK(direct_backward_input_suits(window, filters),
           "direct_conv_backward_input: unsupported window");
  const Window2d t = transposed_window(window, filters);
  const int64_t kh_size = window.window_height, kw_size = window.window_width;
  const int64_t c = window.channels;
  const int64_t stride = simd::padded_to_lanes<T>(c);
  // flipped [KH, KW, F, C]: tap (kh, kw) of the transposed window is tap (KH-1-kh, KW-1-kw) of
  // the kernel, with the channel axes swapped.
  const int64_t flipped_size = kh_size * kw_size * filters * stride;
  const bool winograd = winograd_suits(t, c);
  const int64_t workspace = winograd ? winograd_workspace_size(t, stride) : width_padded_size(t);
  T* flipped = scratch.get<T>(static_cast<size_t>(flipped_size + workspace));
  for (int64_t kh = 0; kh < kh_size; ++kh) {
    for (int64_t kw = 0; kw < kw_size; ++kw) {
      const T* source = kernel + ((kh_size - 1 - kh) * kw_size + (kw_size - 1 - kw)) * c * filters;
      T* target = flipped + (kh * kw_size + kw) * filters * stride;
      for (int64_t f = 0; f < filters; ++f) {
        T* row = target + f * stride;
        for (int64_t channel = 0; channel < c; ++channel)
          row[channel] = source[channel * filters + f];
        std::fill(row + c, row + stride, T(0));
      }
    }
  }
  const ConvOutput<T> output{.accumulate = accumulate};
  if (winograd) {
    winograd_forward(t, y_grad, flipped, stride, c, x_grad, output, flipped + flipped_size);
    return;
  }
  forward_packed(t, y_grad, flipped, stride, c, x_grad, output, flipped + flipped_size);
}

template void direct_conv_forward<float>(const Window2d&, const float*, const float*, int64_t,
                                         float*, const ConvOutput<float>&, Scratch&);
template void direct_conv_forward<double>(const Window2d&, const double*, const double*, int64_t,
                                          double*, const ConvOutput<double>&, Scratch&);
template void direct_conv_backward_input<float>(const Window2d&, const float*, const float*,
                                                int64_t, float*, bool, Scratch&);
template void direct_conv_backward_input<double>(const Window2d&, const double*, const double*,
                                                 int64_t, double*, bool, Scratch&);

}  // namespace trainyard::backend::cpu
