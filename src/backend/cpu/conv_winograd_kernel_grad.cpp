// Winograd F(2x2, 3x3), kernel gradient. Each output tile is Y = A^T [U . V] A with U = G g G^T
// and V = B^T d B (conv_winograd.cpp), linear in U, so
//   dL/dU = sum over tiles of (A dY A^T) . V,    dL/dg = G^T (dL/dU) G,
// and the sum over tiles is 16 matrix products [C, tiles] @ [tiles, F], run on the direct
// kernel gradient's register tile: 2.25 times fewer multiply-adds than the direct sum. Blocks
// of tiles are grouped in chunks whose count depends only on the shapes, each summed into its
// own dL/dU partial, and the partials are added in chunk order: the same bits on any thread
// count.
#include <algorithm>

#include "backend/cpu/conv_tile.h"
#include "backend/cpu/conv_winograd.h"
#include "backend/cpu/conv_winograd_tiles.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {
namespace {

// Tiles per block: the register tile keeps its sums over a whole block, so larger blocks load
// and store them less often, while the block's V and Z still fit in the core's L2.
constexpr int64_t kBlockTiles = 112;
// At most this many partial sums; each covers at least kChunkMultiplyAdds of work.
constexpr int64_t kMaxChunks = 8;
constexpr int64_t kChunkMultiplyAdds = int64_t{1} << 20;

struct Layout {
  TileGrid grid;
  int64_t blocks, chunks;
  int64_t partial_size;  // dL/dU [16, C, stride] per chunk
  int64_t inputs_size;   // V [kBlockTiles, tile_stride(C)] per chunk
  int64_t grads_size;    // Z = A dY A^T [kBlockTiles, tile_stride(stride)] per chunk
  int64_t row_size;      // the input transform's row buffer per chunk
  int64_t chunk_size;
};

Layout layout(const Window2d& w, int64_t filters, int64_t stride) {
  Layout l{};
  l.grid = tile_grid(w);
  l.blocks = (l.grid.tiles + kBlockTiles - 1) / kBlockTiles;
  int64_t work = l.grid.tiles * kPoints * w.channels * filters;
  l.chunks = std::clamp<int64_t>(work / kChunkMultiplyAdds, 1, std::min(kMaxChunks, l.blocks));
  l.partial_size = kPoints * w.channels * stride;
  l.inputs_size = kBlockTiles * tile_stride(w.channels);
  l.grads_size = kBlockTiles * tile_stride(stride);
  l.row_size = input_row_size(w, l.grid);
  l.chunk_size = l.partial_size + l.inputs_size + l.grads_size + l.row_size;
  return l;
}

// (A dy A^T)[r][s] for one filter, or one vector of filters, with A^T = [1 1 1 0; 0 1 -1 -1]:
// load(a, b) gives dy[a][b] and store(4r + s, value) takes the result.
template <typename V, typename Load, typename Store>
inline void transform_grad(Load load, Store store) {
  V d00 = load(0, 0), d01 = load(0, 1), d10 = load(1, 0), d11 = load(1, 1);
  V t[4][2] = {{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {-d10, -d11}};  // A dy
  for (int r = 0; r < 4; ++r) {
    store(4 * r + 0, t[r][0]);
    store(4 * r + 1, t[r][0] + t[r][1]);
    store(4 * r + 2, t[r][0] - t[r][1]);
    store(4 * r + 3, -t[r][1]);
  }
}

// Z[tile][4r + s][f] = (A dy A^T)[r][s] for the tiles [first, first + count); outputs past y's
// edge read `zeros`, and the columns past `filters` are 0.
template <typename T>
void transform_grads(const Window2d& w, const TileGrid& grid, const T* y_grad, int64_t filters,
                     int64_t stride, const T* zeros, int64_t first, int64_t count, T* z) {
  const int64_t lanes = simd::kLanes<T>;
  const int64_t point_step = stride;
  for (int64_t tile = 0; tile < count; ++tile) {
    auto [n, i, j] = tile_position(grid, first + tile);
    const T* d[2][2];
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t b = 0; b < 2; ++b) {
        int64_t oh = 2 * i + a, ow = 2 * j + b;
        bool inside = oh < w.out_height && ow < w.out_width;
        d[a][b] = inside ? y_grad + ((n * w.out_height + oh) * w.out_width + ow) * filters : zeros;
      }
    }
    T* out = z + tile * tile_stride(stride);
    int64_t f = 0;
    for (; f + lanes <= filters; f += lanes) {
      transform_grad<simd::Vec<T>>(
          [&](int a, int b) { return simd::load(d[a][b] + f); },
          [&](int point, simd::Vec<T> value) { simd::store(out + point * point_step + f, value); });
    }
    for (; f < filters; ++f) {
      transform_grad<T>([&](int a, int b) { return d[a][b][f]; },
                        [&](int point, T value) { out[point * point_step + f] = value; });
    }
    for (int64_t point = 0; point < kPoints; ++point) {
      std::fill(out + point * point_step + filters, out + point * point_step + stride, T(0));
    }
  }
}

// partial[point][c][f] += sum over `count` tiles of V[tile][point][c] * Z[tile][point][f].
template <typename T>
void accumulate_products(int64_t channels, int64_t stride, const T* v, const T* z, int64_t count,
                         T* partial) {
  const int64_t lanes = simd::kLanes<T>;
  const int64_t vectors = stride / lanes;
  // The tiles are the "pixels" of one output row; the channels are the "taps", at offsets c.
  KernelGradTile<T> tile{};
  tile.y_grad_stride = tile_stride(stride);
  tile.row_begin = 0;
  tile.row_end = 1;
  tile.out_height = 1;
  tile.out_width = count;
  tile.pixel_step = tile_stride(channels);
  tile.partial_stride = stride;
  int64_t offsets[kMaxTileTaps];
  tile.offsets = offsets;
  for (int64_t point = 0; point < kPoints; ++point) {
    tile.x = v + point * channels;
    for (int64_t first = 0; first < vectors; first += kMaxBlockVectors) {
      int block = static_cast<int>(std::min<int64_t>(kMaxBlockVectors, vectors - first));
      int64_t max_taps = max_tile_taps(block);
      tile.y_grad = z + point * stride + first * lanes;
      const int64_t tiles = (channels + max_taps - 1) / max_taps;
      for (int64_t t = 0, c = 0; t < tiles; ++t) {
        int64_t taps = channels / tiles + (t < channels % tiles ? 1 : 0);
        for (int64_t k = 0; k < taps; ++k) offsets[k] = c + k;
        tile.partial = partial + (point * channels + c) * stride + first * lanes;
        run_kernel_grad_tile<T>(block, taps, tile);
        c += taps;
      }
    }
  }
}

// kernel_grad[kh, kw, c, f] (+)= (G^T D G)[kh][kw], with D the chunks' dL/dU summed in order and
// G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. Runs over vectors of filters, so every loop is long
// and unit-stride.
template <typename T>
void transform_back(const Layout& l, int64_t channels, int64_t filters, int64_t stride,
                    const T* partials, T* kernel_grad, bool accumulate) {
  constexpr int64_t kFilterBlock = 64;
  const int64_t plane = channels * stride;
  parallel_range(channels, 8, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t f0 = 0; f0 < filters; f0 += kFilterBlock) {
        const int64_t width = std::min(kFilterBlock, filters - f0);
        T d[kPoints][kFilterBlock];
        for (int64_t point = 0; point < kPoints; ++point) {
          const T* source = partials + point * plane + c * stride + f0;
          std::copy(source, source + width, d[point]);
          for (int64_t chunk = 1; chunk < l.chunks; ++chunk) {
            const T* more = source + chunk * l.chunk_size;
            for (int64_t f = 0; f < width; ++f) d[point][f] += more[f];
          }
        }
        for (int64_t kh = 0; kh < 3; ++kh) {
          for (int64_t kw = 0; kw < 3; ++kw) {
            T* out = kernel_grad + ((kh * 3 + kw) * channels + c) * filters + f0;
            for (int64_t f = 0; f < width; ++f) {
              // Row kh of G^T D at column b, then its product with column kw of G.
              auto h = [&](int64_t b) {
                T d0 = d[b][f], d1 = d[4 + b][f], d2 = d[8 + b][f], d3 = d[12 + b][f];
                return kh == 0   ? d0 + (d1 + d2) * T(0.5)
                       : kh == 1 ? (d1 - d2) * T(0.5)
                                 : (d1 + d2) * T(0.5) + d3;
              };
              T value = kw == 0   ? h(0) + (h(1) + h(2)) * T(0.5)
                        : kw == 1 ? (h(1) - h(2)) * T(0.5)
                                  : (h(1) + h(2)) * T(0.5) + h(3);
              out[f] = accumulate ? out[f] + value : value;
            }
          }
        }
      }
    }
  });
}

}  // namespace

int64_t winograd_backward_kernel_workspace_size(const Window2d& window, int64_t filters,
                                                int64_t stride) {
  Layout l = layout(window, filters, stride);
  return l.chunks * l.chunk_size + std::max(window.channels, filters);
}

template <typename T>
void winograd_backward_kernel(const Window2d& w, const T* x, const T* y_grad, int64_t filters,
                              T* kernel_grad, bool accumulate, T* workspace) {
  TY_CHECK(winograd_suits(w, filters), "winograd_backward_kernel: unsupported window");
  const int64_t stride = simd::padded_to_lanes<T>(filters);
  const Layout l = layout(w, filters, stride);
  T* zeros = workspace + l.chunks * l.chunk_size;
  std::fill(zeros, zeros + std::max(w.channels, filters), T(0));
  compute_pool().parallel_for(l.chunks, [&](int64_t chunk) {
    T* partial = workspace + chunk * l.chunk_size;
    T* v = partial + l.partial_size;
    T* z = v + l.inputs_size;
    T* row = z + l.grads_size;
    std::fill(partial, partial + l.partial_size, T(0));
    for (int64_t block = l.blocks * chunk / l.chunks; block < l.blocks * (chunk + 1) / l.chunks;
         ++block) {
      int64_t first = block * kBlockTiles;
      int64_t count = std::min(kBlockTiles, l.grid.tiles - first);
      transform_inputs(w, l.grid, x, zeros, first, count, row, v);
      transform_grads(w, l.grid, y_grad, filters, stride, zeros, first, count, z);
      accumulate_products(w.channels, stride, v, z, count, partial);
    }
  });
  transform_back(l, w.channels, filters, stride, workspace, kernel_grad, accumulate);
}

template void winograd_backward_kernel<float>(const Window2d&, const float*, const float*, int64_t,
                                              float*, bool, float*);
template void winograd_backward_kernel<double>(const Window2d&, const double*, const double*,
                                               int64_t, double*, bool, double*);

}  // namespace trainyard::backend::cpu
