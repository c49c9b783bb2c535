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

// Applies `body(c, load, store)` over channels [0, count): whole vectors first, then the rest one
// by one, with load/store for a vector or a scalar at a pointer.
template <typename T, typename Body>
inline void for_channels(int64_t count, Body body) {
  const int64_t lanes = simd::kLanes<T>;
  int64_t c = 0;
  for (; c + lanes <= count; c += lanes) {
    body(
        c, [](const T* p) { return simd::load(p); },
        [](T* p, simd::Vec<T> v) { simd::store(p, v); });
  }
  for (; c < count; ++c) {
    body(
        c, [](const T* p) { return *p; }, [](T* p, T v) { *p = v; });
  }
}

// Elements of the row buffer transform_inputs needs: B^T applied down the 4 input rows of one
// tile row, at every input column the row's tiles read.
inline int64_t input_row_size(const Window2d& w, const TileGrid& grid) {
  return 4 * (2 * grid.tiles_wide + 2) * w.channels;
}

// row[k][col][c] = (B^T d)[k] down column col of the 4 input rows under tile row i of sample n,
// with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; positions outside x read `zeros`.
template <typename T>
inline void transform_input_row(const Window2d& w, const TileGrid& grid, const T* x, const T* zeros,
                                int64_t n, int64_t i, T* row) {
  const int64_t c_count = w.channels;
  const int64_t columns = 2 * grid.tiles_wide + 2;
  const T* lines[4];
  for (int64_t r = 0; r < 4; ++r) {
    int64_t ih = 2 * i - w.pad_top + r;
    lines[r] =
        ih >= 0 && ih < w.in_height ? x + (n * w.in_height + ih) * w.in_width * c_count : nullptr;
  }
  for (int64_t column = 0; column < columns; ++column) {
    int64_t iw = column - w.pad_left;
    bool inside = iw >= 0 && iw < w.in_width;
    const T* d[4];
    for (int64_t r = 0; r < 4; ++r) d[r] = inside && lines[r] ? lines[r] + iw * c_count : zeros;
    T* out = row + column * c_count;
    const int64_t k_step = columns * c_count;
    for_channels<T>(c_count, [&](int64_t c, auto load, auto store) {
      auto d0 = load(d[0] + c), d1 = load(d[1] + c), d2 = load(d[2] + c), d3 = load(d[3] + c);
      store(out + c, d0 - d2);
      store(out + k_step + c, d1 + d2);
      store(out + 2 * k_step + c, d2 - d1);
      store(out + 3 * k_step + c, d1 - d3);
    });
  }
}

// V[tile][4r + s][c] = (B^T d B)[r][s] for the tiles [first, first + count), tile_stride(C)
// apart; patch positions outside x read `zeros`. B^T runs once per tile row into `row`
// (input_row_size elements), whose overlapping columns the row's tiles share; then B runs
// across each tile's 4 columns. Tile-major, so each tile's 16 points are written in one sweep.
template <typename T>
inline void transform_inputs(const Window2d& w, const TileGrid& grid, const T* x, const T* zeros,
                             int64_t first, int64_t count, T* row, T* v) {
  const int64_t c_count = w.channels;
  const int64_t k_step = (2 * grid.tiles_wide + 2) * c_count;
  int64_t row_index = -1;  // the tile row `row` holds, as n * tiles_high + i
  for (int64_t tile = 0; tile < count; ++tile) {
    auto [n, i, j] = tile_position(grid, first + tile);
    if (n * grid.tiles_high + i != row_index) {
      row_index = n * grid.tiles_high + i;
      transform_input_row(w, grid, x, zeros, n, i, row);
    }
    T* out = v + tile * tile_stride(c_count);
    for (int64_t k = 0; k < 4; ++k) {
      const T* t = row + k * k_step + 2 * j * c_count;  // columns 2j .. 2j + 3
      T* target = out + 4 * k * c_count;
      for_channels<T>(c_count, [&](int64_t c, auto load, auto store) {
        auto t0 = load(t + c), t1 = load(t + c_count + c);
        auto t2 = load(t + 2 * c_count + c), t3 = load(t + 3 * c_count + c);
        store(target + c, t0 - t2);
        store(target + c_count + c, t1 + t2);
        store(target + 2 * c_count + c, t2 - t1);
        store(target + 3 * c_count + c, t1 - t3);
      });
    }
  }
}

}  // namespace trainyard::backend::cpu
