// Winograd F(2x2, 3x3). With g a 3x3 kernel slice, d a 4x4 input patch and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// the 2x2 output block is A^T [(G g G^T) . (B^T d B)] A, summed over input channels. The sum
// over channels of the 16 elementwise products is 16 matrix products [tiles, C] @ [C, F], run
// on the direct convolution's register tile. Tiles go in blocks whose transformed inputs V and
// products M stay in the core's cache; blocks run in parallel, one workspace per thread.
#include "backend/cpu/conv_winograd.h"

#include <algorithm>

#include "backend/cpu/conv_tile.h"
#include "backend/cpu/conv_winograd_tiles.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {
namespace {

// Output tiles per block: a multiple of the register tile's 7 and 14 pixels, few enough that a
// block's V and M stay in the core's cache.
constexpr int64_t kBlockTiles = 28;

struct Layout {
  TileGrid grid;
  int64_t slots;          // workspaces, one per thread
  int64_t weights_size;   // U [16, C, weight_stride]
  int64_t inputs_size;    // V [kBlockTiles, tile_stride(C)] per slot
  int64_t products_size;  // M [kBlockTiles, tile_stride(weight_stride)] per slot
  int64_t row_size;       // the input transform's row buffer per slot
  int64_t slot_size;      // V, M, the row buffer and a spare output row
};

Layout layout(const Window2d& w, int64_t weight_stride) {
  Layout l{};
  l.grid = tile_grid(w);
  l.slots = num_threads();
  l.weights_size = kPoints * w.channels * weight_stride;
  l.inputs_size = kBlockTiles * tile_stride(w.channels);
  l.products_size = kBlockTiles * tile_stride(weight_stride);
  l.row_size = input_row_size(w, l.grid);
  l.slot_size = l.inputs_size + l.products_size + l.row_size + weight_stride;
  return l;
}

// U[4a + b][c][f] = (G g G^T)[a][b] for every input channel c and column f, the channels split
// across the compute pool.
template <typename T>
void transform_weights(int64_t channels, const T* weights, int64_t weight_stride, T* u) {
  const int64_t plane = channels * weight_stride;
  parallel_range(channels, 8, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const T* g = weights + c * weight_stride;  // g[kh][kw] at (kh * 3 + kw) * plane
      T* out = u + c * weight_stride;
      for_channels<T>(weight_stride, [&](int64_t f, auto load, auto store) {
        using V = decltype(load(g));
        V t[4][3];  // G g
        for (int64_t k = 0; k < 3; ++k) {
          V g0 = load(g + k * plane + f), g1 = load(g + (3 + k) * plane + f);
          V g2 = load(g + (6 + k) * plane + f);
          t[0][k] = g0;
          t[1][k] = (g0 + g1 + g2) * T(0.5);
          t[2][k] = (g0 - g1 + g2) * T(0.5);
          t[3][k] = g2;
        }
        for (int64_t a = 0; a < 4; ++a) {
          store(out + (4 * a + 0) * plane + f, t[a][0]);
          store(out + (4 * a + 1) * plane + f, (t[a][0] + t[a][1] + t[a][2]) * T(0.5));
          store(out + (4 * a + 2) * plane + f, (t[a][0] - t[a][1] + t[a][2]) * T(0.5));
          store(out + (4 * a + 3) * plane + f, t[a][2]);
        }
      });
    }
  });
}

// M[tile][point][f] = V[tile][point][:] @ U[point][:][f], on the register tile as a 1x1
// convolution of `count` pixels.
template <typename T>
void multiply(const Window2d& w, int64_t weight_stride, const T* u, const T* v, int64_t count,
              T* m) {
  const int64_t lanes = simd::kLanes<T>;
  const int64_t vectors = weight_stride / lanes;
  ForwardTile<T> tile{};
  tile.pixel_step = tile_stride(w.channels);
  tile.kh_begin = 0;
  tile.kh_end = 1;
  tile.window_width = 1;
  tile.channels = w.channels;
  tile.weight_stride = weight_stride;
  tile.y_pixel_step = tile_stride(weight_stride);
  for (int64_t point = 0; point < kPoints; ++point) {
    tile.x = v + point * w.channels;
    for (int64_t first = 0; first < vectors; first += kMaxBlockVectors) {
      int block = static_cast<int>(std::min<int64_t>(kMaxBlockVectors, vectors - first));
      int64_t max_pixels = max_tile_pixels(block);
      tile.weights = u + point * w.channels * weight_stride + first * lanes;
      tile.valid = block * lanes;
      const int64_t groups = (count + max_pixels - 1) / max_pixels;
      for (int64_t g = 0, p = 0; g < groups; ++g) {
        int64_t pixels = count / groups + (g < count % groups ? 1 : 0);
        tile.x_offset = p * tile_stride(w.channels);
        tile.y = m + p * tile_stride(weight_stride) + point * weight_stride + first * lanes;
        run_forward_tile<T>(block, pixels, tile);
        p += pixels;
      }
    }
  }
}

// (A^T M A)[a][b] for one filter, or one vector of filters: load(4r + s) gives M[r][s] and
// store(a, b, value) takes the result.
template <typename V, typename Load, typename Store>
inline void transform_output(Load load, Store store) {
  V t[2][4];  // A^T M
  for (int s = 0; s < 4; ++s) {
    V m0 = load(s), m1 = load(4 + s), m2 = load(8 + s), m3 = load(12 + s);
    t[0][s] = m0 + m1 + m2;
    t[1][s] = m1 - m2 - m3;
  }
  for (int a = 0; a < 2; ++a) {
    store(a, 0, t[a][0] + t[a][1] + t[a][2]);
    store(a, 1, t[a][1] - t[a][2] - t[a][3]);
  }
}

// One output value as `output` says, given y's current value (read only when accumulating) and
// the bias (read only with a bias). V is a vector of T, or T.
template <typename V, typename T, typename Old, typename Bias>
inline V stored_value(V value, const ConvOutput<T>& output, Old old, Bias bias) {
  if (output.accumulate) value = old() + value;
  if (output.bias != nullptr) value += bias();
  if (output.relu) value = value > V{} ? value : V{};
  return value;
}

// y's 2x2 blocks = A^T M A for the tiles [first, first + count), stored as `output` says.
// Outputs past y's edge go to `spare` (weight_stride elements), so the loop over filters has no
// branches.
template <typename T>
void transform_outputs(const Window2d& w, const Layout& l, const T* m, int64_t weight_stride,
                       int64_t filters, int64_t first, int64_t count, T* y,
                       const ConvOutput<T>& output, T* spare) {
  const int64_t point_step = weight_stride;
  const int64_t lanes = simd::kLanes<T>;
  for (int64_t tile = 0; tile < count; ++tile) {
    auto [n, i, j] = tile_position(l.grid, first + tile);
    T* out[2][2];
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t b = 0; b < 2; ++b) {
        int64_t oh = 2 * i + a, ow = 2 * j + b;
        bool inside = oh < w.out_height && ow < w.out_width;
        out[a][b] = inside ? y + ((n * w.out_height + oh) * w.out_width + ow) * filters : spare;
      }
    }
    const T* in = m + tile * tile_stride(weight_stride);
    // Whole vectors of filters, then the rest one by one: y's rows hold exactly `filters`.
    int64_t f = 0;
    for (; f + lanes <= filters; f += lanes) {
      transform_output<simd::Vec<T>>(
          [&](int point) { return simd::load(in + point * point_step + f); },
          [&](int a, int b, simd::Vec<T> value) {
            T* target = out[a][b] + f;
            simd::store(target, stored_value(
                                    value, output, [&] { return simd::load(target); },
                                    [&] { return simd::load(output.bias + f); }));
          });
    }
    for (; f < filters; ++f) {
      transform_output<T>([&](int point) { return in[point * point_step + f]; },
                          [&](int a, int b, T value) {
                            T* target = out[a][b] + f;
                            *target = stored_value(
                                value, output, [&] { return *target; },
                                [&] { return output.bias[f]; });
                          });
    }
  }
}

}  // namespace

bool winograd_suits(const Window2d& w, int64_t filters) {
  return w.window_height == 3 && w.window_width == 3 && w.stride_height == 1 &&
         w.stride_width == 1 && w.dilation_height == 1 && w.dilation_width == 1 &&
         w.channels >= 16 && filters >= 16;
}

int64_t winograd_workspace_size(const Window2d& window, int64_t weight_stride) {
  Layout l = layout(window, weight_stride);
  return l.weights_size + window.channels + l.slots * l.slot_size;
}

template <typename T>
void winograd_forward(const Window2d& w, const T* x, const T* weights, int64_t weight_stride,
                      int64_t filters, T* y, const ConvOutput<T>& output, T* workspace) {
  TY_CHECK(winograd_suits(w, filters), "winograd_forward: unsupported window");
  const Layout l = layout(w, weight_stride);
  T* u = workspace;
  T* zeros = u + l.weights_size;
  std::fill(zeros, zeros + w.channels, T(0));
  T* slots = zeros + w.channels;
  transform_weights(w.channels, weights, weight_stride, u);

  const int64_t blocks = (l.grid.tiles + kBlockTiles - 1) / kBlockTiles;
  const int64_t tasks = std::min(l.slots, blocks);
  compute_pool().parallel_for(tasks, [&](int64_t task) {
    T* v = slots + task * l.slot_size;
    T* m = v + l.inputs_size;
    T* row = m + l.products_size;
    T* spare = row + l.row_size;
    for (int64_t block = blocks * task / tasks; block < blocks * (task + 1) / tasks; ++block) {
      int64_t first = block * kBlockTiles;
      int64_t count = std::min(kBlockTiles, l.grid.tiles - first);
      transform_inputs(w, l.grid, x, zeros, first, count, row, v);
      multiply(w, weight_stride, u, v, count, m);
      transform_outputs(w, l, m, weight_stride, filters, first, count, y, output, spare);
    }
  });
}

template void winograd_forward<float>(const Window2d&, const float*, const float*, int64_t, int64_t,
                                      float*, const ConvOutput<float>&, float*);
template void winograd_forward<double>(const Window2d&, const double*, const double*, int64_t,
                                       int64_t, double*, const ConvOutput<double>&, double*);

}  // namespace trainyard::backend::cpu
