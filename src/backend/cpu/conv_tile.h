// The register tiles of the direct convolution's forward pass and kernel gradient, shared with
// the Winograd convolution, which runs them as plain matrix products. Internal to the CPU
// backend.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "backend/cpu/simd.h"
#include "core/error.h"

namespace trainyard::backend::cpu {

// A tile covers up to this many vectors of filters...
inline constexpr int kMaxBlockVectors = 4;
// ... times up to this many output pixels, as the vector registers allow.
inline constexpr int kMaxTilePixels = 14;

constexpr int max_tile_pixels(int vectors) {
  return std::min(kMaxTilePixels, simd::kMaxAccumulators / vectors);
}

// What one tile computes: y[p, block] (+)= sum over taps (kh, kw, c) of x under tap for pixel p
// times weights[tap, block], for `pixels` consecutive output pixels of one row.
template <typename T>
struct ForwardTile {
  const T* x;                // the sample's input [H, W, C]
  int64_t x_offset;          // offset of tap (0, 0) of the tile's first pixel; may be negative
  int64_t pixel_step;        // stride_w * C
  int64_t tap_row_step;      // dilation_h * W * C
  int64_t tap_column_step;   // dilation_w * C
  int64_t kh_begin, kh_end;  // the window rows inside the input
  int64_t window_width;      // KW
  int64_t channels;          // C
  const T* weights;          // [KH * KW * C, weight_stride], at the block's first filter
  int64_t weight_stride;
  T* y;                  // the tile's first output pixel, at the block's first filter
  int64_t y_pixel_step;  // F
  int64_t valid;         // filters of the block that exist (the rest are padding)
  bool accumulate;       // y += sums
  const T* bias;         // y = sums + bias, at the block's first filter; null for none
  bool relu;             // then y = max(y, 0)
};

// The value a tile stores for one vector of sums, given what y holds (`old`, read only when
// accumulating) and the bias vector (read only with a bias).
template <typename T, typename Old, typename Bias>
inline simd::Vec<T> tile_output(simd::Vec<T> sums, const ForwardTile<T>& t, Old old, Bias bias) {
  if (t.accumulate) sums += old();
  if (t.bias != nullptr) sums += bias();
  if (t.relu) sums = sums > simd::Vec<T>{} ? sums : simd::Vec<T>{};
  return sums;
}

template <typename T, int kPixels, int kVectors>
inline void forward_tile(const ForwardTile<T>& t) {
  constexpr int64_t lanes = simd::kLanes<T>;
  simd::Vec<T> acc[kPixels][kVectors] = {};
  for (int64_t kh = t.kh_begin; kh < t.kh_end; ++kh) {
    for (int64_t kw = 0; kw < t.window_width; ++kw) {
      const T* xt = t.x + (t.x_offset + kh * t.tap_row_step + kw * t.tap_column_step);
      const T* wt = t.weights + (kh * t.window_width + kw) * t.channels * t.weight_stride;
      for (int64_t c = 0; c < t.channels; ++c, wt += t.weight_stride) {
        simd::Vec<T> w[kVectors];
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) w[v] = simd::load(wt + v * lanes);
#pragma GCC unroll 16
        for (int p = 0; p < kPixels; ++p) {
          T input = xt[p * t.pixel_step + c];
#pragma GCC unroll 4
          for (int v = 0; v < kVectors; ++v) acc[p][v] += w[v] * input;
        }
      }
    }
  }
  for (int p = 0; p < kPixels; ++p) {
    T* out = t.y + p * t.y_pixel_step;
    for (int v = 0; v < kVectors; ++v) {
      int64_t count = std::min(lanes, t.valid - v * lanes);
      if (count <= 0) break;
      T* target = out + v * lanes;
      if (count == lanes) {
        simd::store(target, tile_output(
                                acc[p][v], t, [&] { return simd::load(target); },
                                [&] { return simd::load(t.bias + v * lanes); }));
      } else {
        // The last, partial vector: y and the bias end within it.
        simd::Vec<T> old{}, bias_part{};
        for (int64_t i = 0; i < count; ++i) {
          if (t.accumulate) old[i] = target[i];
          if (t.bias != nullptr) bias_part[i] = t.bias[v * lanes + i];
        }
        simd::store_first(target,
                          tile_output(
                              acc[p][v], t, [&] { return old; }, [&] { return bias_part; }),
                          count);
      }
    }
  }
}

// Runs the tile of `pixels` pixels (1 <= pixels <= max_tile_pixels(kVectors)).
template <typename T, int kVectors, int kPixels = 1>
inline void run_forward_tile(int64_t pixels, const ForwardTile<T>& t) {
  if constexpr (kPixels <= max_tile_pixels(kVectors)) {
    if (pixels == kPixels) return forward_tile<T, kPixels, kVectors>(t);
    return run_forward_tile<T, kVectors, kPixels + 1>(pixels, t);
  } else {
    throw InternalError("direct convolution: a tile of " + std::to_string(pixels) + " pixels");
  }
}

template <typename T>
inline void run_forward_tile(int vectors, int64_t pixels, const ForwardTile<T>& t) {
  switch (vectors) {
    case 1:
      return run_forward_tile<T, 1>(pixels, t);
    case 2:
      return run_forward_tile<T, 2>(pixels, t);
    case 3:
      return run_forward_tile<T, 3>(pixels, t);
    default:
      return run_forward_tile<T, 4>(pixels, t);
  }
}

// A kernel-gradient tile covers up to this many rows (kh, kw, c) of the kernel gradient.
inline constexpr int kMaxTileTaps = 14;

constexpr int max_tile_taps(int vectors) {
  return std::min(kMaxTileTaps, simd::kMaxAccumulators / vectors);
}

// What one kernel-gradient tile computes: partial[tap, block] += sum over output pixels of the
// input under the tap times y_grad[pixel, block], for `taps` rows of the kernel gradient.
template <typename T>
struct KernelGradTile {
  const T* x;       // [N, Hp, Wp, C], padded when the window pads
  const T* y_grad;  // [N * OH * OW, y_grad_stride], at the block's first filter
  int64_t y_grad_stride;
  const int64_t* offsets;      // per tap of the tile: its input's offset from tap (0, 0, 0)
  int64_t row_begin, row_end;  // output rows n * OH + oh
  int64_t out_height, out_width;
  int64_t sample_step;  // Hp * Wp * C
  int64_t row_step;     // stride_h * Wp * C
  int64_t pixel_step;   // stride_w * C
  T* partial;           // [K, partial_stride], at the tile's first tap and the block's first filter
  int64_t partial_stride;
};

template <typename T, int kTaps, int kVectors>
inline void kernel_grad_tile(const KernelGradTile<T>& t) {
  constexpr int64_t lanes = simd::kLanes<T>;
  simd::Vec<T> acc[kTaps][kVectors];
  int64_t offsets[kTaps];
  for (int j = 0; j < kTaps; ++j) {
    offsets[j] = t.offsets[j];
    for (int v = 0; v < kVectors; ++v)
      acc[j][v] = simd::load(t.partial + j * t.partial_stride + v * lanes);
  }
  for (int64_t row = t.row_begin; row < t.row_end; ++row) {
    int64_t n = row / t.out_height, oh = row % t.out_height;
    const T* input = t.x + n * t.sample_step + oh * t.row_step;
    const T* grad = t.y_grad + row * t.out_width * t.y_grad_stride;
    for (int64_t ow = 0; ow < t.out_width; ++ow, input += t.pixel_step, grad += t.y_grad_stride) {
      simd::Vec<T> g[kVectors];
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) g[v] = simd::load(grad + v * lanes);
#pragma GCC unroll 16
      for (int j = 0; j < kTaps; ++j) {
        T value = input[offsets[j]];
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) acc[j][v] += g[v] * value;
      }
    }
  }
  for (int j = 0; j < kTaps; ++j) {
    for (int v = 0; v < kVectors; ++v)
      simd::store(t.partial + j * t.partial_stride + v * lanes, acc[j][v]);
  }
}

template <typename T, int kVectors, int kTaps = 1>
inline void run_kernel_grad_tile(int64_t taps, const KernelGradTile<T>& t) {
  if constexpr (kTaps <= max_tile_taps(kVectors)) {
    if (taps == kTaps) return kernel_grad_tile<T, kTaps, kVectors>(t);
    return run_kernel_grad_tile<T, kVectors, kTaps + 1>(taps, t);
  } else {
    throw InternalError("direct convolution: a kernel-gradient tile of " + std::to_string(taps) +
                        " taps");
  }
}

template <typename T>
inline void run_kernel_grad_tile(int vectors, int64_t taps, const KernelGradTile<T>& t) {
  switch (vectors) {
    case 1:
      return run_kernel_grad_tile<T, 1>(taps, t);
    case 2:
      return run_kernel_grad_tile<T, 2>(taps, t);
    case 3:
      return run_kernel_grad_tile<T, 3>(taps, t);
    default:
      return run_kernel_grad_tile<T, 4>(taps, t);
  }
}

}  // namespace trainyard::backend::cpu
