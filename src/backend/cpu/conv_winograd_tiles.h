// What the Winograd F(2x2, 3x3) forward pass and kernel gradient share: the grid of 2x2 output
// tiles and the input transform B^T d B. Internal to the CPU backend.
#pragma once

#include <cstdint>

#include "backend/cpu/simd.h"
#include "backend/window.h"

namespace trainyard::backend::cpu {

inline constexpr int64_t kPoints = 16;  // elements of a transformed 4x4 tile

// Elements between consecutive tiles of a tile-major buffer [tiles, 16, columns]. The extra 16
// keep the stride off powers of two: at 16 * 64 floats, 4 KiB, every tile of a register tile's
// column would fall in the same L1 set.
inline int64_t tile_stride(int64_t columns) {
  return kPoints * columns + 16;
}

// The 2x2 output tiles of a window, numbered sample by sample, row by row.
struct TileGrid {
  int64_t tiles_high, tiles_wide, tiles;
};
inline TileGrid tile_grid(const Window2d& w) {
  int64_t high = (w.out_height + 1) / 2, wide = (w.out_width + 1) / 2;
  return {high, wide, w.batch * high * wide};
}

// Sample n and tile row i, column j of tile `index`.
struct TilePosition {
  int64_t n, i, j;
};
inline TilePosition tile_position(const TileGrid& grid, int64_t index) {
  return {index / (grid.tiles_high * grid.tiles_wide), index / grid.tiles_wide % grid.tiles_high,
          index % grid.tiles_wide};
}

// (B^T d B)[r][s] for one channel, or one vector of channels: load(r, s) gives d[r][s] and
// store(4r + s, value) takes the result.
template <typename V, typename Load, typename Store>
inline void transform_input(Load load, Store store) {
  V t[4][4];  // B^T d
  for (int s = 0; s < 4; ++s) {
    V d0 = load(0, s), d1 = load(1, s), d2 = load(2, s), d3 = load(3, s);
    t[0][s] = d0 - d2;
    t[1][s] = d1 + d2;
    t[2][s] = d2 - d1;
    t[3][s] = d1 - d3;
  }
  for (int r = 0; r < 4; ++r) {
    store(4 * r + 0, t[r][0] - t[r][2]);
    store(4 * r + 1, t[r][1] + t[r][2]);
    store(4 * r + 2, t[r][2] - t[r][1]);
    store(4 * r + 3, t[r][1] - t[r][3]);
  }
}

// V[tile][4r + s][c] = (B^T d B)[r][s] for the tiles [first, first + count), tile_stride(C)
// apart; patch positions outside x read `zeros`. Tile-major, so each tile's 16 points are
// written in one sweep.
template <typename T>
inline void transform_inputs(const Window2d& w, const TileGrid& grid, const T* x, const T* zeros,
                             int64_t first, int64_t count, T* v) {
  const int64_t c_count = w.channels;
  const int64_t lanes = simd::kLanes<T>;
  const int64_t point_step = c_count;
  for (int64_t tile = 0; tile < count; ++tile) {
    auto [n, i, j] = tile_position(grid, first + tile);
    const T* d[4][4];
    for (int64_t r = 0; r < 4; ++r) {
      int64_t ih = 2 * i - w.pad_top + r;
      for (int64_t s = 0; s < 4; ++s) {
        int64_t iw = 2 * j - w.pad_left + s;
        bool inside = ih >= 0 && ih < w.in_height && iw >= 0 && iw < w.in_width;
        d[r][s] = inside ? x + ((n * w.in_height + ih) * w.in_width + iw) * c_count : zeros;
      }
    }
    T* out = v + tile * tile_stride(c_count);
    int64_t c = 0;
    for (; c + lanes <= c_count; c += lanes) {
      transform_input<simd::Vec<T>>(
          [&](int r, int s) { return simd::load(d[r][s] + c); },
          [&](int point, simd::Vec<T> value) { simd::store(out + point * point_step + c, value); });
    }
    for (; c < c_count; ++c) {
      transform_input<T>([&](int r, int s) { return d[r][s][c]; },
                         [&](int point, T value) { out[point * point_step + c] = value; });
    }
  }
}

}  // namespace trainyard::backend::cpu
