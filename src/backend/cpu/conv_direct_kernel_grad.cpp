// Direct convolution, kernel gradient. A tile is up to 14 consecutive rows q = (kh, kw, c) of
// kernel_grad [K, F] times up to 4 vectors of filters, accumulated in registers over a block of
// output pixels: per pixel, the tile loads y_grad's filters once and broadcasts the input under
// each of its taps. A padded window first copies x into a zero-bordered buffer, so every tap of
// every output pixel is in bounds.
#include <algorithm>

#include "backend/cpu/conv_direct.h"
#include "backend/cpu/conv_tile.h"
#include "backend/cpu/conv_winograd.h"
#include "backend/cpu/simd.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {
namespace {

using simd::kLanes;
using simd::Vec;

// At most this many partial sums; each covers at least kChunkMultiplyAdds of work.
constexpr int64_t kMaxChunks = 8;
constexpr int64_t kChunkMultiplyAdds = int64_t{1} << 20;
// y_grad bytes of one block of pixels, sized so the block and its inputs stay in L2 while
// every tile passes over it.
constexpr int64_t kPixelBlockBytes = int64_t{64} << 10;

// x [N, H, W, C] copied into padded [N, H + top + bottom, W + left + right, C] with zeros around.
template <typename T>
void pad_input(const Window2d& w, const T* x, T* padded) {
  const int64_t c = w.channels;
  const int64_t height = w.in_height + w.pad_top + w.pad_bottom;
  const int64_t width = w.in_width + w.pad_left + w.pad_right;
  parallel_range(w.batch * height, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t n = row / height, ih = row % height - w.pad_top;
      T* out = padded + row * width * c;
      if (ih < 0 || ih >= w.in_height) {
        std::fill(out, out + width * c, T(0));
        continue;
      }
      std::fill(out, out + w.pad_left * c, T(0));
      const T* in = x + (n * w.in_height + ih) * w.in_width * c;
      std::copy(in, in + w.in_width * c, out + w.pad_left * c);
      std::fill(out + (w.pad_left + w.in_width) * c, out + width * c, T(0));
    }
  });
}

}  // namespace

template <typename T>
void direct_conv_backward_kernel(const Window2d& w, const T* x, const T* y_grad, int64_t filters,
                                 T* kernel_grad, bool accumulate, Scratch& scratch) {
  if (winograd_suits(w, filters)) {
    const int64_t stride = simd::padded_to_lanes<T>(filters);
    T* workspace = scratch.get<T>(
        static_cast<size_t>(winograd_backward_kernel_workspace_size(w, filters, stride)));
    winograd_backward_kernel(w, x, y_grad, filters, kernel_grad, accumulate, workspace);
    return;
  }
  const int64_t lanes = kLanes<T>;
  const int64_t c = w.channels;
  const int64_t depth = w.window_height * w.window_width * c;
  const int64_t stride = simd::padded_to_lanes<T>(filters);
  const int64_t vectors = stride / lanes;
  const int64_t rows = w.batch * w.out_height;
  const int64_t pixels = rows * w.out_width;
  const bool padded = w.pad_top > 0 || w.pad_left > 0 || w.pad_bottom > 0 || w.pad_right > 0;
  const int64_t height = w.in_height + w.pad_top + w.pad_bottom;
  const int64_t width = w.in_width + w.pad_left + w.pad_right;

  const int64_t work = pixels * depth * filters;
  const int64_t chunks =
      std::clamp<int64_t>(work / kChunkMultiplyAdds, 1, std::min(kMaxChunks, rows));
  const int64_t rows_per_chunk = (rows + chunks - 1) / chunks;

  // Scratch: the partial sums [chunks, K, stride], then the padded x, then y_grad with rows
  // padded to whole vectors, each only when needed.
  const size_t partial_size = static_cast<size_t>(depth * stride);
  const size_t x_size = padded ? static_cast<size_t>(w.batch * height * width * c) : 0;
  const size_t grad_size = stride != filters ? static_cast<size_t>(pixels * stride) : 0;
  T* partials = scratch.get<T>(partial_size * static_cast<size_t>(chunks) + x_size + grad_size);
  const T* input = x;
  if (padded) {
    T* copy = partials + partial_size * static_cast<size_t>(chunks);
    pad_input(w, x, copy);
    input = copy;
  }
  const T* grad = y_grad;
  if (stride != filters) {
    T* copy = partials + partial_size * static_cast<size_t>(chunks) + x_size;
    for (int64_t p = 0; p < pixels; ++p) {
      std::copy(y_grad + p * filters, y_grad + (p + 1) * filters, copy + p * stride);
      std::fill(copy + p * stride + filters, copy + (p + 1) * stride, T(0));
    }
    grad = copy;
  }

  KernelGradTile<T> t{};
  t.x = input;
  t.y_grad_stride = stride;
  t.out_height = w.out_height;
  t.out_width = w.out_width;
  t.sample_step = height * width * c;
  t.row_step = w.stride_height * width * c;
  t.pixel_step = w.stride_width * c;
  t.partial_stride = stride;
  const int64_t block_rows = std::max<int64_t>(
      1, kPixelBlockBytes / (w.out_width * stride * static_cast<int64_t>(sizeof(T))));

  compute_pool().parallel_for(chunks, [&](int64_t chunk) {
    KernelGradTile<T> tile = t;
    T* partial = partials + partial_size * static_cast<size_t>(chunk);
    std::fill(partial, partial + partial_size, T(0));
    int64_t offsets[kMaxTileTaps];
    tile.offsets = offsets;
    const int64_t chunk_end = std::min(rows, (chunk + 1) * rows_per_chunk);
    for (int64_t first_row = chunk * rows_per_chunk; first_row < chunk_end;
         first_row += block_rows) {
      tile.row_begin = first_row;
      tile.row_end = std::min(chunk_end, first_row + block_rows);
      for (int64_t first = 0; first < vectors; first += kMaxBlockVectors) {
        int block = static_cast<int>(std::min<int64_t>(kMaxBlockVectors, vectors - first));
        int64_t max_taps = max_tile_taps(block);
        tile.y_grad = grad + first * lanes;
        // Tiles of near-equal size: 288 taps as 42 tiles of 6 or 7, not 41 of 7 and one of 1.
        const int64_t tiles = (depth + max_taps - 1) / max_taps;
        for (int64_t i = 0, q = 0; i < tiles; ++i) {
          int64_t taps = depth / tiles + (i < depth % tiles ? 1 : 0);
          for (int64_t j = 0; j < taps; ++j) {
            int64_t tap = (q + j) / c, channel = (q + j) % c;
            int64_t kh = tap / w.window_width, kw = tap % w.window_width;
            offsets[j] = (kh * w.dilation_height * width + kw * w.dilation_width) * c + channel;
          }
          tile.partial = partial + q * stride + first * lanes;
          run_kernel_grad_tile<T>(block, taps, tile);
          q += taps;
        }
      }
    }
  });

  // kernel_grad (+)= the partials, added in chunk order.
  parallel_range(depth, 64, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      T* out = kernel_grad + q * filters;
      for (int64_t f = 0; f < filters; ++f) {
        T sum = accumulate ? out[f] : T(0);
        for (int64_t chunk = 0; chunk < chunks; ++chunk) {
          sum += partials[partial_size * static_cast<size_t>(chunk) +
                          static_cast<size_t>(q * stride + f)];
        }
        out[f] = sum;
      }
    }
  });
}

template void direct_conv_backward_kernel<float>(const Window2d&, const float*, const float*,
                                                 int64_t, float*, bool, Scratch&);
template void direct_conv_backward_kernel<double>(const Window2d&, const double*, const double*,
                                                  int64_t, double*, bool, Scratch&);

}  // namespace trainyard::backend::cpu
