// Batch and layer normalization over the last axis, as the CPU backend's
// (src/backend/cpu/normalization.cpp): statistics and sums in float64 for both float dtypes.
// Column sums over [rows, C] run in two passes (per-chunk partials, then each column's partials
// in chunk order), so they are the same bits on every run; layer norm takes one block per row.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "backend/argument_checks.h"
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

template <typename T>
const T* data_or_null(const Tensor& tensor) {
  return tensor.defined() ? static_cast<const T*>(tensor.raw_data()) : nullptr;
}
template <typename T>
const T* data_of(const Tensor& tensor) {
  return static_cast<const T*>(tensor.raw_data());
}
template <typename T>
T* mutable_data(const Tensor& tensor) {
  return static_cast<T*>(tensor.raw_data());
}

// ---- column sums --------------------------------------------------------------------------

// A block covers 32 columns (threadIdx.x, so a warp reads 32 neighbours) and one chunk of rows,
// which its 8 lanes (threadIdx.y) stride through.
constexpr int kTileColumns = 32;
constexpr int kRowLanes = 8;

// The terms summed per column, K of them.
template <typename T>
struct SumTerm {  // x
  static constexpr int K = 1;
  const T* x;
  __device__ void add(int64_t r, int64_t c, int64_t columns, double* sum) const {
    sum[0] += static_cast<double>(x[r * columns + c]);
  }
};

template <typename T>
struct SquaredDeviationTerm {  // (x - mean)^2
  static constexpr int K = 1;
  const T* x;
  const double* mean;
  __device__ void add(int64_t r, int64_t c, int64_t columns, double* sum) const {
    const double d = static_cast<double>(x[r * columns + c]) - mean[c];
    sum[0] += d * d;
  }
};

// dy, and dy * xhat with xhat = (x - mean) * inv_std: per column (batch norm) or per row
// (layer norm).
template <typename T>
struct GammaBetaTerm {
  static constexpr int K = 2;
  const T* x;
  const T* dy;
  const double* mean;
  const double* inv_std;
  bool per_row;
  __device__ void add(int64_t r, int64_t c, int64_t columns, double* sum) const {
    const int64_t i = r * columns + c;
    const int64_t s = per_row ? r : c;
    const double g = static_cast<double>(dy[i]);
    sum[0] += g;
    sum[1] += g * (static_cast<double>(x[i]) - mean[s]) * inv_std[s];
  }
};

// partial[(chunk * K + k) * columns + c] = sum over the chunk's rows of term k at column c.
template <typename Term>
__global__ void column_partials_kernel(Term term, int64_t rows, int64_t columns,
                                       int64_t rows_per_chunk, double* partial) {
  constexpr int K = Term::K;
  __shared__ double shared[K][kRowLanes][kTileColumns + 1];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTileColumns + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  const int64_t begin = chunk * rows_per_chunk;
  const int64_t end = min(rows, begin + rows_per_chunk);
  double sum[K];
  for (int k = 0; k < K; ++k) sum[k] = 0.0;
  if (c < columns) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kRowLanes) term.add(r, c, columns, sum);
  }
  for (int k = 0; k < K; ++k) shared[k][threadIdx.y][threadIdx.x] = sum[k];
  __syncthreads();
  if (threadIdx.y == 0 && c < columns) {
    for (int k = 0; k < K; ++k) {
      double total = 0.0;
      for (int lane = 0; lane < kRowLanes; ++lane) total += shared[k][lane][threadIdx.x];
      partial[(chunk * K + k) * columns + c] = total;
    }
  }
}

// sums[k * columns + c] = partials of (k, c) added in chunk order.
__global__ void combine_partials_kernel(const double* partial, int64_t chunks, int K,
                                        int64_t columns, double* sums) {
  const int64_t count = K * columns;
  for (int64_t index = global_thread_index(); index < count; index += grid_stride()) {
    const int64_t k = index / columns, c = index % columns;
    double total = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      total += partial[(chunk * K + k) * columns + c];
    }
    sums[index] = total;
  }
}

struct ChunkPlan {
  int64_t tiles, chunks, rows_per_chunk;
};

// Enough blocks to fill the GPU (about 2048), each chunk at least a few rows per lane.
ChunkPlan plan_chunks(int64_t rows, int64_t columns) {
  const int64_t tiles = (columns + kTileColumns - 1) / kTileColumns;
  int64_t chunks = std::max<int64_t>(1, 2048 / std::max<int64_t>(tiles, 1));
  chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, (rows + 31) / 32));
  chunks = std::min<int64_t>(chunks, 65535);
  const int64_t rows_per_chunk = std::max<int64_t>(1, (rows + chunks - 1) / chunks);
  chunks = std::max<int64_t>(1, (rows + rows_per_chunk - 1) / rows_per_chunk);
  return {tiles, chunks, rows_per_chunk};
}

// sums [K * columns] = per-column sums of the term over all rows, through kReduction scratch.
template <typename Term>
void column_sums(CudaBackend& gpu, const Term& term, int64_t rows, int64_t columns, double* sums) {
  constexpr int K = Term::K;
  const ChunkPlan plan = plan_chunks(rows, columns);
  auto* partial = static_cast<double*>(gpu.scratch(
      ScratchSlot::kReduction, static_cast<size_t>(plan.chunks * K * columns) * sizeof(double)));
  const dim3 grid(static_cast<unsigned int>(plan.tiles), static_cast<unsigned int>(plan.chunks));
  const dim3 block(kTileColumns, kRowLanes);
  column_partials_kernel<Term>
      <<<grid, block, 0, gpu.stream()>>>(term, rows, columns, plan.rows_per_chunk, partial);
  TY_CUDA_CHECK_LAUNCH("column_partials_kernel");
  combine_partials_kernel<<<blocks_for(K * columns), kThreadsPerBlock, 0, gpu.stream()>>>(
      partial, plan.chunks, K, columns, sums);
  TY_CUDA_CHECK_LAUNCH("combine_partials_kernel");
}

// ---- per-column vectors -------------------------------------------------------------------

// Per-column statistics in float64, in kWorkspace scratch: mean, then a second vector (variance
// or inverse deviation), scale and offset, then the two gradient sums [dbeta, dgamma].
struct ColumnStats {
  double* mean;
  double* second;
  double* scale;
  double* offset;
  double* sums;  // [2 * C]
};

ColumnStats column_stats(CudaBackend& gpu, int64_t columns) {
  auto* base = static_cast<double*>(
      gpu.scratch(ScratchSlot::kWorkspace, static_cast<size_t>(6 * columns) * sizeof(double)));
  return {base, base + columns, base + 2 * columns, base + 3 * columns, base + 4 * columns};
}

// mean /= rows, then (after the squared deviations are summed into variance) variance /= rows.
__global__ void divide_kernel(double* values, int64_t columns, double rows) {
  for (int64_t c = global_thread_index(); c < columns; c += grid_stride()) values[c] /= rows;
}

// scale = gamma / sqrt(variance + epsilon), offset = beta (1 and 0 when absent); the moving
// statistics, when given, move toward the batch's: moving * momentum + batch * (1 - momentum).
template <typename T>
__global__ void scale_offset_kernel(const T* gamma, const T* beta, const double* mean,
                                    const double* variance, double epsilon, int64_t columns,
                                    double* scale, double* offset, T* moving_mean,
                                    T* moving_variance, double momentum) {
  for (int64_t c = global_thread_index(); c < columns; c += grid_stride()) {
    scale[c] =
        (gamma != nullptr ? static_cast<double>(gamma[c]) : 1.0) / sqrt(variance[c] + epsilon);
    offset[c] = beta != nullptr ? static_cast<double>(beta[c]) : 0.0;
    if (moving_mean != nullptr) {
      moving_mean[c] = static_cast<T>(static_cast<double>(moving_mean[c]) * momentum +
                                      mean[c] * (1.0 - momentum));
      moving_variance[c] = static_cast<T>(static_cast<double>(moving_variance[c]) * momentum +
                                          variance[c] * (1.0 - momentum));
    }
  }
}

// The given mean and variance ([C], dtype T) as float64: mean, and variance or, with
// `inverse`, 1 / sqrt(variance + epsilon).
template <typename T>
__global__ void load_statistics_kernel(const T* mean, const T* variance, double epsilon,
                                       bool inverse, int64_t columns, double* mean_out,
                                       double* second_out) {
  for (int64_t c = global_thread_index(); c < columns; c += grid_stride()) {
    mean_out[c] = static_cast<double>(mean[c]);
    const double v = static_cast<double>(variance[c]);
    second_out[c] = inverse ? 1.0 / sqrt(v + epsilon) : v;
  }
}

// variance (summed squared deviations) -> 1 / sqrt(variance / rows + epsilon).
__global__ void inverse_deviation_kernel(double* values, int64_t columns, double rows,
                                         double epsilon) {
  for (int64_t c = global_thread_index(); c < columns; c += grid_stride()) {
    values[c] = 1.0 / sqrt(values[c] / rows + epsilon);
  }
}

// y = (x - mean) * scale + offset per column.
template <typename T>
__global__ void normalize_columns_kernel(const T* x, int64_t count, int64_t columns,
                                         const double* mean, const double* scale,
                                         const double* offset, T* y) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t c = i % columns;
    y[i] = static_cast<T>((static_cast<double>(x[i]) - mean[c]) * scale[c] + offset[c]);
  }
}

// out (+)= values, in T.
template <typename T>
__global__ void store_kernel(T* out, const double* values, int64_t count, bool accumulate) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    out[i] = accumulate ? static_cast<T>(static_cast<double>(out[i]) + values[i])
                        : static_cast<T>(values[i]);
  }
}

template <typename T>
void store(CudaBackend& gpu, const Tensor& out, const double* values, bool accumulate) {
  const int64_t count = out.num_elements();
  if (count == 0) return;
  store_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, gpu.stream()>>>(
      mutable_data<T>(out), values, count, accumulate);
  TY_CUDA_CHECK_LAUNCH("store_kernel");
}

// sums = [dbeta, dgamma] to the wanted gradients.
template <typename T>
void store_gamma_beta(CudaBackend& gpu, const NormGradients& grads, const double* sums,
                      int64_t columns) {
  if (gradient_wanted(grads.beta_grad))
    store<T>(gpu, *grads.beta_grad, sums, grads.accumulate_beta);
  if (gradient_wanted(grads.gamma_grad)) {
    store<T>(gpu, *grads.gamma_grad, sums + columns, grads.accumulate_gamma);
  }
}

// Batch norm training dx = gamma * inv_std * (dy - dbeta / N - xhat * dgamma / N); with
// `inference`, dx = dy * gamma * inv_std (the statistics are constants).
template <typename T>
__global__ void batch_norm_dx_kernel(const T* x, const T* dy, const T* gamma, const double* mean,
                                     const double* inv_std, const double* sums, int64_t count,
                                     int64_t columns, double n, bool inference, T* dx,
                                     bool accumulate) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const int64_t c = i % columns;
    const double coefficient =
        (gamma != nullptr ? static_cast<double>(gamma[c]) : 1.0) * inv_std[c];
    double value;
    if (inference) {
      value = static_cast<double>(dy[i]) * coefficient;
    } else {
      const double xhat = (static_cast<double>(x[i]) - mean[c]) * inv_std[c];
      value =
          coefficient * (static_cast<double>(dy[i]) - sums[c] / n - xhat * sums[columns + c] / n);
    }
    dx[i] = accumulate ? static_cast<T>(static_cast<double>(dx[i]) + value) : static_cast<T>(value);
  }
}

unsigned int small_blocks(int64_t count) {
  return blocks_for(std::max<int64_t>(count, 1));
}

// ---- layer norm: one block per row ---------------------------------------------------------

// The sums of K values over the block, returned to every thread. Ends with a barrier, so the
// shared array may be reused at once.
template <int K>
__device__ void block_sum(double (&values)[K], double (*shared)[kThreadsPerBlock]) {
  const int t = threadIdx.x;
  for (int k = 0; k < K; ++k) shared[k][t] = values[k];
  __syncthreads();
  for (int stride = kThreadsPerBlock / 2; stride > 0; stride /= 2) {
    if (t < stride) {
      for (int k = 0; k < K; ++k) shared[k][t] += shared[k][t + stride];
    }
    __syncthreads();
  }
  for (int k = 0; k < K; ++k) values[k] = shared[k][0];
  __syncthreads();
}

// The row's mean and 1 / sqrt(biased variance + epsilon), two passes as the CPU's.
template <typename T>
__device__ void row_statistics(const T* row, int64_t columns, double epsilon,
                               double (*shared)[kThreadsPerBlock], double& mean, double& inv_std) {
  double sum[1] = {0.0};
  for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) sum[0] += static_cast<double>(row[j]);
  block_sum<1>(sum, shared);
  mean = sum[0] / static_cast<double>(columns);
  double squares[1] = {0.0};
  for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
    const double d = static_cast<double>(row[j]) - mean;
    squares[0] += d * d;
  }
  block_sum<1>(squares, shared);
  inv_std = 1.0 / sqrt(squares[0] / static_cast<double>(columns) + epsilon);
}

template <typename T>
__global__ void layer_norm_forward_kernel(const T* x, const T* gamma, const T* beta, int64_t rows,
                                          int64_t columns, double epsilon, T* y) {
  __shared__ double shared[1][kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * columns;
    double mean = 0.0, inv_std = 0.0;
    row_statistics(row, columns, epsilon, shared, mean, inv_std);
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      const double xhat = (static_cast<double>(row[j]) - mean) * inv_std;
      const double scaled = gamma != nullptr ? xhat * static_cast<double>(gamma[j]) : xhat;
      y[r * columns + j] =
          static_cast<T>(beta != nullptr ? scaled + static_cast<double>(beta[j]) : scaled);
    }
  }
}

// Per row: its statistics into row_mean / row_inv_std (when given, for the gamma / beta sums),
// and dx (when given) = (g - mean(g) - xhat * mean(g * xhat)) * inv_std with g = dy * gamma.
template <typename T>
__global__ void layer_norm_backward_kernel(const T* x, const T* dy, const T* gamma, int64_t rows,
                                           int64_t columns, double epsilon, double* row_mean,
                                           double* row_inv_std, T* dx, bool accumulate) {
  __shared__ double shared[2][kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * columns;
    const T* grad = dy + r * columns;
    double mean = 0.0, inv_std = 0.0;
    row_statistics(row, columns, epsilon, shared, mean, inv_std);
    if (row_mean != nullptr && threadIdx.x == 0) {
      row_mean[r] = mean;
      row_inv_std[r] = inv_std;
    }
    if (dx == nullptr) continue;
    double sums[2] = {0.0, 0.0};  // g, g * xhat
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      const double g =
          static_cast<double>(grad[j]) * (gamma != nullptr ? static_cast<double>(gamma[j]) : 1.0);
      sums[0] += g;
      sums[1] += g * (static_cast<double>(row[j]) - mean) * inv_std;
    }
    block_sum<2>(sums, shared);
    const double g_mean = sums[0] / static_cast<double>(columns);
    const double g_xhat_mean = sums[1] / static_cast<double>(columns);
    T* out = dx + r * columns;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      const double g =
          static_cast<double>(grad[j]) * (gamma != nullptr ? static_cast<double>(gamma[j]) : 1.0);
      const double xhat = (static_cast<double>(row[j]) - mean) * inv_std;
      const double value = inv_std * (g - g_mean - xhat * g_xhat_mean);
      out[j] =
          accumulate ? static_cast<T>(static_cast<double>(out[j]) + value) : static_cast<T>(value);
    }
  }
}

unsigned int row_blocks(int64_t rows) {
  return static_cast<unsigned int>(std::clamp<int64_t>(rows, 1, 65535));
}

}  // namespace

void CudaBackend::batch_norm_training_forward(const Tensor& x, const Tensor& gamma,
                                              const Tensor& beta, double epsilon, double momentum,
                                              const Tensor& moving_mean,
                                              const Tensor& moving_variance, const Tensor& y) {
  const char* entry = "batch_norm_training_forward";
  require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  check_norm_vector(entry, "moving_mean", moving_mean, x, false);
  check_norm_vector(entry, "moving_variance", moving_variance, x, false);
  for (auto [what, tensor] : {std::pair<const char*, const Tensor*>{"x", &x},
                              {"gamma", &gamma},
                              {"beta", &beta},
                              {"moving_mean", &moving_mean},
                              {"moving_variance", &moving_variance},
                              {"y", &y}}) {
    require_here(entry, what, *tensor);
  }
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (rows == 0 || columns == 0) return;
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const ColumnStats stats = column_stats(*this, columns);
    const double n = static_cast<double>(rows);
    column_sums(*this, SumTerm<T>{data_of<T>(x)}, rows, columns, stats.mean);
    divide_kernel<<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(stats.mean, columns, n);
    TY_CUDA_CHECK_LAUNCH("divide_kernel");
    column_sums(*this, SquaredDeviationTerm<T>{data_of<T>(x), stats.mean}, rows, columns,
                stats.second);
    divide_kernel<<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(stats.second, columns,
                                                                           n);
    TY_CUDA_CHECK_LAUNCH("divide_kernel");
    scale_offset_kernel<T><<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(
        data_or_null<T>(gamma), data_or_null<T>(beta), stats.mean, stats.second, epsilon, columns,
        stats.scale, stats.offset, mutable_data<T>(moving_mean), mutable_data<T>(moving_variance),
        momentum);
    TY_CUDA_CHECK_LAUNCH("scale_offset_kernel");
    const int64_t count = rows * columns;
    normalize_columns_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        data_of<T>(x), count, columns, stats.mean, stats.scale, stats.offset, mutable_data<T>(y));
    TY_CUDA_CHECK_LAUNCH("normalize_columns_kernel");
  });
}

void CudaBackend::batch_norm_training_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                               const Tensor& y_grad, const NormGradients& grads) {
  const char* entry = "batch_norm_training_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  require_here(entry, "x", x);
  require_here(entry, "gamma", gamma);
  require_here(entry, "y_grad", y_grad);
  if (gradient_wanted(grads.x_grad)) require_here(entry, "x gradient", *grads.x_grad);
  if (gradient_wanted(grads.gamma_grad)) require_here(entry, "gamma gradient", *grads.gamma_grad);
  if (gradient_wanted(grads.beta_grad)) require_here(entry, "beta gradient", *grads.beta_grad);
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (columns == 0) return;
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const ColumnStats stats = column_stats(*this, columns);
    if (rows == 0) {
      TY_CUDA_CHECK(cudaMemsetAsync(stats.sums, 0, 2 * columns * sizeof(double), stream_));
      store_gamma_beta<T>(*this, grads, stats.sums, columns);
      return;
    }
    const double n = static_cast<double>(rows);
    const T* in = data_of<T>(x);
    const T* dy = data_of<T>(y_grad);
    column_sums(*this, SumTerm<T>{in}, rows, columns, stats.mean);
    divide_kernel<<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(stats.mean, columns, n);
    TY_CUDA_CHECK_LAUNCH("divide_kernel");
    column_sums(*this, SquaredDeviationTerm<T>{in, stats.mean}, rows, columns, stats.second);
    inverse_deviation_kernel<<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(
        stats.second, columns, n, epsilon);
    TY_CUDA_CHECK_LAUNCH("inverse_deviation_kernel");
    column_sums(*this, GammaBetaTerm<T>{in, dy, stats.mean, stats.second, false}, rows, columns,
                stats.sums);
    store_gamma_beta<T>(*this, grads, stats.sums, columns);
    if (!gradient_wanted(grads.x_grad)) return;
    const int64_t count = rows * columns;
    batch_norm_dx_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        in, dy, data_or_null<T>(gamma), stats.mean, stats.second, stats.sums, count, columns, n,
        false, mutable_data<T>(*grads.x_grad), grads.accumulate_x);
    TY_CUDA_CHECK_LAUNCH("batch_norm_dx_kernel");
  });
}

void CudaBackend::batch_norm_inference_forward(const Tensor& x, const Tensor& gamma,
                                               const Tensor& beta, const Tensor& mean,
                                               const Tensor& variance, double epsilon,
                                               const Tensor& y) {
  const char* entry = "batch_norm_inference_forward";
  require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  check_norm_vector(entry, "mean", mean, x, false);
  check_norm_vector(entry, "variance", variance, x, false);
  for (auto [what, tensor] : {std::pair<const char*, const Tensor*>{"x", &x},
                              {"gamma", &gamma},
                              {"beta", &beta},
                              {"mean", &mean},
                              {"variance", &variance},
                              {"y", &y}}) {
    require_here(entry, what, *tensor);
  }
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (rows == 0 || columns == 0) return;
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const ColumnStats stats = column_stats(*this, columns);
    load_statistics_kernel<T><<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(
        data_of<T>(mean), data_of<T>(variance), epsilon, false, columns, stats.mean, stats.second);
    TY_CUDA_CHECK_LAUNCH("load_statistics_kernel");
    scale_offset_kernel<T><<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(
        data_or_null<T>(gamma), data_or_null<T>(beta), stats.mean, stats.second, epsilon, columns,
        stats.scale, stats.offset, nullptr, nullptr, 0.0);
    TY_CUDA_CHECK_LAUNCH("scale_offset_kernel");
    const int64_t count = rows * columns;
    normalize_columns_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        data_of<T>(x), count, columns, stats.mean, stats.scale, stats.offset, mutable_data<T>(y));
    TY_CUDA_CHECK_LAUNCH("normalize_columns_kernel");
  });
}

void CudaBackend::batch_norm_inference_backward(const Tensor& x, const Tensor& gamma,
                                                const Tensor& mean, const Tensor& variance,
                                                double epsilon, const Tensor& y_grad,
                                                const NormGradients& grads) {
  const char* entry = "batch_norm_inference_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "mean", mean, x, false);
  check_norm_vector(entry, "variance", variance, x, false);
  for (auto [what, tensor] : {std::pair<const char*, const Tensor*>{"x", &x},
                              {"gamma", &gamma},
                              {"mean", &mean},
                              {"variance", &variance},
                              {"y_grad", &y_grad}}) {
    require_here(entry, what, *tensor);
  }
  if (gradient_wanted(grads.x_grad)) require_here(entry, "x gradient", *grads.x_grad);
  if (gradient_wanted(grads.gamma_grad)) require_here(entry, "gamma gradient", *grads.gamma_grad);
  if (gradient_wanted(grads.beta_grad)) require_here(entry, "beta gradient", *grads.beta_grad);
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (columns == 0) return;
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const ColumnStats stats = column_stats(*this, columns);
    load_statistics_kernel<T><<<small_blocks(columns), kThreadsPerBlock, 0, stream_>>>(
        data_of<T>(mean), data_of<T>(variance), epsilon, true, columns, stats.mean, stats.second);
    TY_CUDA_CHECK_LAUNCH("load_statistics_kernel");
    const T* in = data_of<T>(x);
    const T* dy = data_of<T>(y_grad);
    if (gradient_wanted(grads.gamma_grad) || gradient_wanted(grads.beta_grad)) {
      column_sums(*this, GammaBetaTerm<T>{in, dy, stats.mean, stats.second, false}, rows, columns,
                  stats.sums);
      store_gamma_beta<T>(*this, grads, stats.sums, columns);
    }
    const int64_t count = rows * columns;
    if (!gradient_wanted(grads.x_grad) || count == 0) return;
    batch_norm_dx_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        in, dy, data_or_null<T>(gamma), stats.mean, stats.second, stats.sums, count, columns,
        static_cast<double>(rows), true, mutable_data<T>(*grads.x_grad), grads.accumulate_x);
    TY_CUDA_CHECK_LAUNCH("batch_norm_dx_kernel");
  });
}

void CudaBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                     double epsilon, const Tensor& y) {
  const char* entry = "layer_norm_forward";
  require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  require_here(entry, "x", x);
  require_here(entry, "gamma", gamma);
  require_here(entry, "beta", beta);
  require_here(entry, "y", y);
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (rows == 0 || columns == 0) return;
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    layer_norm_forward_kernel<T><<<row_blocks(rows), kThreadsPerBlock, 0, stream_>>>(
        data_of<T>(x), data_or_null<T>(gamma), data_or_null<T>(beta), rows, columns, epsilon,
        mutable_data<T>(y));
    TY_CUDA_CHECK_LAUNCH("layer_norm_forward_kernel");
  });
}

void CudaBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                      const Tensor& y_grad, const NormGradients& grads) {
  const char* entry = "layer_norm_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  require_here(entry, "x", x);
  require_here(entry, "gamma", gamma);
  require_here(entry, "y_grad", y_grad);
  if (gradient_wanted(grads.x_grad)) require_here(entry, "x gradient", *grads.x_grad);
  if (gradient_wanted(grads.gamma_grad)) require_here(entry, "gamma gradient", *grads.gamma_grad);
  if (gradient_wanted(grads.beta_grad)) require_here(entry, "beta gradient", *grads.beta_grad);
  const int64_t rows = row_count(x), columns = last_dim(x);
  if (columns == 0) return;
  const bool want_x = gradient_wanted(grads.x_grad);
  const bool want_sums = gradient_wanted(grads.gamma_grad) || gradient_wanted(grads.beta_grad);
  activate();
  dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const T* in = data_of<T>(x);
    const T* dy = data_of<T>(y_grad);
    // Row statistics for the gamma / beta sums, then the sums [dbeta, dgamma].
    auto* row_stats = static_cast<double*>(scratch(
        ScratchSlot::kWorkspace,
        static_cast<size_t>(2 * std::max<int64_t>(rows, 1) + 2 * columns) * sizeof(double)));
    double* row_mean = row_stats;
    double* row_inv_std = row_stats + rows;
    double* sums = row_stats + 2 * rows;
    if (rows > 0 && (want_x || want_sums)) {
      layer_norm_backward_kernel<T><<<row_blocks(rows), kThreadsPerBlock, 0, stream_>>>(
          in, dy, data_or_null<T>(gamma), rows, columns, epsilon, want_sums ? row_mean : nullptr,
          want_sums ? row_inv_std : nullptr, want_x ? mutable_data<T>(*grads.x_grad) : nullptr,
          grads.accumulate_x);
      TY_CUDA_CHECK_LAUNCH("layer_norm_backward_kernel");
    }
    if (!want_sums) return;
    column_sums(*this, GammaBetaTerm<T>{in, dy, row_mean, row_inv_std, true}, rows, columns, sums);
    store_gamma_beta<T>(*this, grads, sums, columns);
  });
}

}  // namespace trainyard::backend::cuda
