// Batch and layer normalization over the last axis (keras-semantics.md sections 1.6, 1.7).
// x is [rows, C]. Column statistics (batch norm) and the gamma / beta gradients are sums over
// rows taken with reduce_rows, so they are the same bits on any thread count; per-row work
// (layer norm, the output and dx passes) splits rows across the pool. Statistics and sums are
// kept in float64 for both float dtypes.
#include <algorithm>
#include <cmath>
#include <string>

#include "backend/argument_checks.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/reductions.h"

namespace trainyard::backend {
namespace {

// Grain for loops over whole rows of `columns` values.
int64_t row_grain(int64_t columns) {
  return std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(columns, 1));
}

template <typename T>
void store(T* out, int64_t count, const double* values, bool accumulate) {
  for (int64_t j = 0; j < count; ++j) {
    out[j] = accumulate ? static_cast<T>(out[j] + values[j]) : static_cast<T>(values[j]);
  }
}

// Column means and biased variances of x [rows, columns] (two passes, so no cancellation).
template <typename T>
void column_moments(const T* x, int64_t rows, int64_t columns, double* partial, double* mean,
                    double* variance) {
  cpu::reduce_rows(rows, columns, columns, partial, mean,
                   [&](int64_t begin, int64_t end, double* slot) {
                     for (int64_t r = begin; r < end; ++r) {
                       const T* row = x + r * columns;
                       for (int64_t j = 0; j < columns; ++j) slot[j] += row[j];
                     }
                   });
  for (int64_t j = 0; j < columns; ++j) mean[j] /= static_cast<double>(rows);
  cpu::reduce_rows(rows, columns, columns, partial, variance,
                   [&](int64_t begin, int64_t end, double* slot) {
                     for (int64_t r = begin; r < end; ++r) {
                       const T* row = x + r * columns;
                       for (int64_t j = 0; j < columns; ++j) {
                         double d = static_cast<double>(row[j]) - mean[j];
                         slot[j] += d * d;
                       }
                     }
                   });
  for (int64_t j = 0; j < columns; ++j) variance[j] /= static_cast<double>(rows);
}

// y = (x - mean) * scale + offset per column, over all rows.
template <typename T>
void normalize_columns(const T* x, int64_t rows, int64_t columns, const double* mean,
                       const double* scale, const double* offset, T* y) {
  cpu::for_range(rows, row_grain(columns), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* in = x + r * columns;
      T* out = y + r * columns;
      for (int64_t j = 0; j < columns; ++j) {
        out[j] = static_cast<T>((static_cast<double>(in[j]) - mean[j]) * scale[j] + offset[j]);
      }
    }
  });
}

// scale[j] = gamma[j] / sqrt(variance[j] + epsilon), offset[j] = beta[j] (1 and 0 if absent).
template <typename T>
void scale_and_offset(const Tensor& gamma, const Tensor& beta, const double* variance,
                      double epsilon, int64_t columns, double* scale, double* offset) {
  const T* g = gamma.defined() ? gamma.data<T>() : nullptr;
  const T* b = beta.defined() ? beta.data<T>() : nullptr;
  for (int64_t j = 0; j < columns; ++j) {
    scale[j] = (g ? static_cast<double>(g[j]) : 1.0) / std::sqrt(variance[j] + epsilon);
    offset[j] = b ? static_cast<double>(b[j]) : 0.0;
  }
}

// sums[0, C) = sum over rows of dy; sums[C, 2C) = sum over rows of dy * (x - mean) * inv_std.
template <typename T>
void gamma_beta_sums(const T* x, const T* dy, int64_t rows, int64_t columns, const double* mean,
                     const double* inv_std, double* partial, double* sums) {
  cpu::reduce_rows(rows, columns, 2 * columns, partial, sums,
                   [&](int64_t begin, int64_t end, double* slot) {
                     double* dy_sum = slot;
                     double* dy_xhat_sum = slot + columns;
                     for (int64_t r = begin; r < end; ++r) {
                       const T* in = x + r * columns;
                       const T* grad = dy + r * columns;
                       for (int64_t j = 0; j < columns; ++j) {
                         double g = static_cast<double>(grad[j]);
                         dy_sum[j] += g;
                         dy_xhat_sum[j] += g * (static_cast<double>(in[j]) - mean[j]) * inv_std[j];
                       }
                     }
                   });
}

template <typename T>
void store_gamma_beta(const NormGradients& grads, const double* sums, int64_t columns) {
  if (gradient_wanted(grads.beta_grad)) {
    store(grads.beta_grad->data<T>(), columns, sums, grads.accumulate_beta);
  }
  if (gradient_wanted(grads.gamma_grad)) {
    store(grads.gamma_grad->data<T>(), columns, sums + columns, grads.accumulate_gamma);
  }
}

}  // namespace

void CpuBackend::batch_norm_training_forward(const Tensor& x, const Tensor& gamma,
                                             const Tensor& beta, double epsilon, double momentum,
                                             const Tensor& moving_mean,
                                             const Tensor& moving_variance, const Tensor& y) {
  const char* entry = "batch_norm_training_forward";
  cpu::require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  check_norm_vector(entry, "moving_mean", moving_mean, x, false);
  check_norm_vector(entry, "moving_variance", moving_variance, x, false);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  if (rows == 0) return;
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    cpu::RowChunks chunks = cpu::row_chunks(rows, columns);
    double* partial =
        reduction_scratch_.get<double>(static_cast<size_t>(chunks.count * columns + 4 * columns));
    double* mean = partial + chunks.count * columns;
    double* variance = mean + columns;
    double* scale = variance + columns;
    double* offset = scale + columns;
    column_moments(x.data<T>(), rows, columns, partial, mean, variance);
    scale_and_offset<T>(gamma, beta, variance, epsilon, columns, scale, offset);
    normalize_columns(x.data<T>(), rows, columns, mean, scale, offset, y.data<T>());
    // Keras: moving = moving * momentum + batch * (1 - momentum), with the biased variance.
    T* moving_m = moving_mean.data<T>();
    T* moving_v = moving_variance.data<T>();
    for (int64_t j = 0; j < columns; ++j) {
      moving_m[j] = static_cast<T>(moving_m[j] * momentum + mean[j] * (1.0 - momentum));
      moving_v[j] = static_cast<T>(moving_v[j] * momentum + variance[j] * (1.0 - momentum));
    }
  });
}

void CpuBackend::batch_norm_training_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                              const Tensor& y_grad, const NormGradients& grads) {
  const char* entry = "batch_norm_training_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    cpu::RowChunks chunks = cpu::row_chunks(rows, columns);
    double* partial = reduction_scratch_.get<double>(
        static_cast<size_t>(chunks.count * 2 * columns + 5 * columns));
    double* mean = partial + chunks.count * 2 * columns;
    double* inv_std = mean + columns;
    double* sums = inv_std + columns;  // [dbeta, dgamma]
    double* coefficient = sums + 2 * columns;
    if (rows == 0) {
      std::fill(sums, sums + 2 * columns, 0.0);
      store_gamma_beta<T>(grads, sums, columns);
      return;
    }
    const T* in = x.data<T>();
    const T* dy = y_grad.data<T>();
    column_moments(in, rows, columns, partial, mean, inv_std);
    for (int64_t j = 0; j < columns; ++j) inv_std[j] = 1.0 / std::sqrt(inv_std[j] + epsilon);
    gamma_beta_sums(in, dy, rows, columns, mean, inv_std, partial, sums);
    store_gamma_beta<T>(grads, sums, columns);
    if (!gradient_wanted(grads.x_grad)) return;
    // dx = gamma * inv_std * (dy - dbeta / N - xhat * dgamma / N)
    const T* g = gamma.defined() ? gamma.data<T>() : nullptr;
    double n = static_cast<double>(rows);
    for (int64_t j = 0; j < columns; ++j) {
      coefficient[j] = (g ? static_cast<double>(g[j]) : 1.0) * inv_std[j];
    }
    const double* dbeta = sums;
    const double* dgamma = sums + columns;
    T* dx = grads.x_grad->data<T>();
    bool accumulate = grads.accumulate_x;
    cpu::for_range(rows, row_grain(columns), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        for (int64_t j = 0; j < columns; ++j) {
          int64_t i = r * columns + j;
          double xhat = (static_cast<double>(in[i]) - mean[j]) * inv_std[j];
          double value =
              coefficient[j] * (static_cast<double>(dy[i]) - dbeta[j] / n - xhat * dgamma[j] / n);
          dx[i] = accumulate ? static_cast<T>(dx[i] + value) : static_cast<T>(value);
        }
      }
    });
  });
}

void CpuBackend::batch_norm_inference_forward(const Tensor& x, const Tensor& gamma,
                                              const Tensor& beta, const Tensor& mean,
                                              const Tensor& variance, double epsilon,
                                              const Tensor& y) {
  const char* entry = "batch_norm_inference_forward";
  cpu::require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  check_norm_vector(entry, "mean", mean, x, false);
  check_norm_vector(entry, "variance", variance, x, false);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    double* statistics = reduction_scratch_.get<double>(static_cast<size_t>(4 * columns));
    double* mu = statistics;
    double* var = mu + columns;
    double* scale = var + columns;
    double* offset = scale + columns;
    for (int64_t j = 0; j < columns; ++j) {
      mu[j] = static_cast<double>(mean.data<T>()[j]);
      var[j] = static_cast<double>(variance.data<T>()[j]);
    }
    scale_and_offset<T>(gamma, beta, var, epsilon, columns, scale, offset);
    normalize_columns(x.data<T>(), rows, columns, mu, scale, offset, y.data<T>());
  });
}

void CpuBackend::batch_norm_inference_backward(const Tensor& x, const Tensor& gamma,
                                               const Tensor& mean, const Tensor& variance,
                                               double epsilon, const Tensor& y_grad,
                                               const NormGradients& grads) {
  const char* entry = "batch_norm_inference_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "mean", mean, x, false);
  check_norm_vector(entry, "variance", variance, x, false);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    cpu::RowChunks chunks = cpu::row_chunks(rows, columns);
    double* partial = reduction_scratch_.get<double>(
        static_cast<size_t>(chunks.count * 2 * columns + 5 * columns));
    double* mu = partial + chunks.count * 2 * columns;
    double* inv_std = mu + columns;
    double* sums = inv_std + columns;
    double* coefficient = sums + 2 * columns;
    const T* g = gamma.defined() ? gamma.data<T>() : nullptr;
    for (int64_t j = 0; j < columns; ++j) {
      mu[j] = static_cast<double>(mean.data<T>()[j]);
      inv_std[j] = 1.0 / std::sqrt(static_cast<double>(variance.data<T>()[j]) + epsilon);
      coefficient[j] = (g ? static_cast<double>(g[j]) : 1.0) * inv_std[j];
    }
    const T* in = x.data<T>();
    const T* dy = y_grad.data<T>();
    if (gradient_wanted(grads.gamma_grad) || gradient_wanted(grads.beta_grad)) {
      gamma_beta_sums(in, dy, rows, columns, mu, inv_std, partial, sums);
      store_gamma_beta<T>(grads, sums, columns);
    }
    if (!gradient_wanted(grads.x_grad)) return;
    // dx = dy * gamma * inv_std: the statistics are constants in inference mode.
    T* dx = grads.x_grad->data<T>();
    bool accumulate = grads.accumulate_x;
    cpu::for_range(rows, row_grain(columns), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        for (int64_t j = 0; j < columns; ++j) {
          int64_t i = r * columns + j;
          double value = static_cast<double>(dy[i]) * coefficient[j];
          dx[i] = accumulate ? static_cast<T>(dx[i] + value) : static_cast<T>(value);
        }
      }
    });
  });
}

namespace {

// Mean and 1 / sqrt(biased variance + epsilon) of one row.
template <typename T>
void row_statistics(const T* row, int64_t columns, double epsilon, double& mean, double& inv_std) {
  double sum = 0;
  for (int64_t j = 0; j < columns; ++j) sum += static_cast<double>(row[j]);
  mean = sum / static_cast<double>(columns);
  double squares = 0;
  for (int64_t j = 0; j < columns; ++j) {
    double d = static_cast<double>(row[j]) - mean;
    squares += d * d;
  }
  inv_std = 1.0 / std::sqrt(squares / static_cast<double>(columns) + epsilon);
}

}  // namespace

void CpuBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    double epsilon, const Tensor& y) {
  const char* entry = "layer_norm_forward";
  cpu::require_same_size(entry, x, y);
  check_norm_vector(entry, "gamma", gamma, x, true);
  check_norm_vector(entry, "beta", beta, x, true);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    const T* g = gamma.defined() ? gamma.data<T>() : nullptr;
    const T* b = beta.defined() ? beta.data<T>() : nullptr;
    T* out = y.data<T>();
    cpu::for_range(rows, row_grain(columns), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* row = in + r * columns;
        T* result = out + r * columns;
        double mean = 0, inv_std = 0;
        row_statistics(row, columns, epsilon, mean, inv_std);
        for (int64_t j = 0; j < columns; ++j) {
          double xhat = (static_cast<double>(row[j]) - mean) * inv_std;
          double scaled = g ? xhat * static_cast<double>(g[j]) : xhat;
          result[j] = static_cast<T>(b ? scaled + static_cast<double>(b[j]) : scaled);
        }
      }
    });
  });
}

void CpuBackend::layer_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                     const Tensor& y_grad, const NormGradients& grads) {
  const char* entry = "layer_norm_backward";
  check_norm_gradients(entry, x, y_grad, grads);
  check_norm_vector(entry, "gamma", gamma, x, true);
  int64_t rows = cpu::row_count(x), columns = cpu::last_dim(x);
  bool want_x = gradient_wanted(grads.x_grad);
  bool want_sums = gradient_wanted(grads.gamma_grad) || gradient_wanted(grads.beta_grad);
  cpu::dispatch_float(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    cpu::RowChunks chunks = cpu::row_chunks(rows, columns);
    double* partial = reduction_scratch_.get<double>(
        static_cast<size_t>(chunks.count * 2 * columns + 2 * columns));
    double* sums = partial + chunks.count * 2 * columns;
    const T* in = x.data<T>();
    const T* dy = y_grad.data<T>();
    const T* g = gamma.defined() ? gamma.data<T>() : nullptr;
    T* dx = want_x ? grads.x_grad->data<T>() : nullptr;
    bool accumulate = grads.accumulate_x;
    // One pass per chunk of rows: each row's dx, and its share of the gamma / beta sums.
    cpu::reduce_rows(
        rows, columns, 2 * columns, partial, sums, [&](int64_t begin, int64_t end, double* slot) {
          for (int64_t r = begin; r < end; ++r) {
            const T* row = in + r * columns;
            const T* grad = dy + r * columns;
            double mean = 0, inv_std = 0;
            row_statistics(row, columns, epsilon, mean, inv_std);
            if (want_sums) {
              for (int64_t j = 0; j < columns; ++j) {
                double d = static_cast<double>(grad[j]);
                slot[j] += d;
                slot[columns + j] += d * (static_cast<double>(row[j]) - mean) * inv_std;
              }
            }
            if (!want_x) continue;
            double g_mean = 0, g_xhat_mean = 0;
            for (int64_t j = 0; j < columns; ++j) {
              double gj = static_cast<double>(grad[j]) * (g ? static_cast<double>(g[j]) : 1.0);
              g_mean += gj;
              g_xhat_mean += gj * (static_cast<double>(row[j]) - mean) * inv_std;
            }
            g_mean /= static_cast<double>(columns);
            g_xhat_mean /= static_cast<double>(columns);
            T* out = dx + r * columns;
            for (int64_t j = 0; j < columns; ++j) {
              double gj = static_cast<double>(grad[j]) * (g ? static_cast<double>(g[j]) : 1.0);
              double xhat = (static_cast<double>(row[j]) - mean) * inv_std;
              double value = inv_std * (gj - g_mean - xhat * g_xhat_mean);
              out[j] = accumulate ? static_cast<T>(out[j] + value) : static_cast<T>(value);
            }
          }
        });
    if (want_sums) store_gamma_beta<T>(grads, sums, columns);
  });
}

}  // namespace trainyard::backend
