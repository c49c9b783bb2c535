// The register tile of the direct convolution's forward pass, shared with the Winograd
// convolution, which runs it as a plain matrix product (a 1x1 window). Internal to the CPU
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
  bool accumulate;
};

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
      if (count == lanes) {
        simd::store(out + v * lanes,
                    t.accumulate ? acc[p][v] + simd::load(out + v * lanes) : acc[p][v]);
      } else {
        simd::Vec<T> value = acc[p][v];
        if (t.accumulate) {
          for (int64_t i = 0; i < count; ++i) value[i] += out[v * lanes + i];
        }
        simd::store_first(out + v * lanes, value, count);
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

}  // namespace trainyard::backend::cpu
