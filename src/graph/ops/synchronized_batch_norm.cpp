#include "graph/ops/synchronized_batch_norm.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace trainyard::graph::ops {
namespace {

struct Columns {
  int64_t rows = 0;  // this replica's rows: all leading dimensions
  int64_t columns = 0;
};

Columns columns_of(const Tensor& x) {
  const int64_t columns = x.shape()[-1];
  return {columns == 0 ? 0 : x.num_elements() / columns, columns};
}

void require_cpu_float(const Tensor& x) {
  if (!x.device().is_cpu() || (x.dtype() != DType::kFloat32 && x.dtype() != DType::kFloat64)) {
    throw ValueError("BatchNormalization(synchronized=True): synchronizing replicas needs " +
                     std::string("float32 or float64 tensors on a CPU device, got ") +
                     x.to_string());
  }
}

// The global batch's mean and 1 / sqrt(variance + epsilon) per column, and the variance.
struct GlobalStatistics {
  std::vector<double> mean, variance, inverse_sigma;
};

template <typename T>
GlobalStatistics global_statistics(const T* x, Columns shape, double epsilon,
                                   CrossReplicaSum& replicas) {
  const auto columns = static_cast<size_t>(shape.columns);
  // Sums and the row count first, then squared deviations from the global mean: two
  // reductions, as stable as the single-replica kernel's two passes.
  std::vector<double> sums(columns + 1, 0.0);
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (size_t j = 0; j < columns; ++j) sums[j] += static_cast<double>(x[r * shape.columns + j]);
  }
  sums[columns] = static_cast<double>(shape.rows);
  replicas.sum(sums);
  const double count = sums[columns];
  GlobalStatistics statistics;
  statistics.mean.resize(columns);
  for (size_t j = 0; j < columns; ++j) statistics.mean[j] = count > 0 ? sums[j] / count : 0.0;
  std::vector<double> squares(columns, 0.0);
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (size_t j = 0; j < columns; ++j) {
      const double d = static_cast<double>(x[r * shape.columns + j]) - statistics.mean[j];
      squares[j] += d * d;
    }
  }
  replicas.sum(squares);
  statistics.variance.resize(columns);
  statistics.inverse_sigma.resize(columns);
  for (size_t j = 0; j < columns; ++j) {
    statistics.variance[j] = count > 0 ? squares[j] / count : 0.0;
    statistics.inverse_sigma[j] = 1.0 / std::sqrt(statistics.variance[j] + epsilon);
  }
  return statistics;
}

template <typename T>
double value_or(const Tensor& tensor, size_t j, double otherwise) {
  return tensor.defined() ? static_cast<double>(tensor.data<T>()[j]) : otherwise;
}

template <typename T>
void forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
             double momentum, const Tensor& moving_mean, const Tensor& moving_variance,
             const Tensor& y, CrossReplicaSum& replicas) {
  const Columns shape = columns_of(x);
  const T* in = x.data<T>();
  GlobalStatistics statistics = global_statistics(in, shape, epsilon, replicas);
  T* out = y.data<T>();
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (int64_t j = 0; j < shape.columns; ++j) {
      const auto c = static_cast<size_t>(j);
      const double xhat = (static_cast<double>(in[r * shape.columns + j]) - statistics.mean[c]) *
                          statistics.inverse_sigma[c];
      out[r * shape.columns + j] =
          static_cast<T>(value_or<T>(gamma, c, 1.0) * xhat + value_or<T>(beta, c, 0.0));
    }
  }
  T* moving_m = moving_mean.data<T>();
  T* moving_v = moving_variance.data<T>();
  for (int64_t j = 0; j < shape.columns; ++j) {
    const auto c = static_cast<size_t>(j);
    moving_m[j] = static_cast<T>(moving_m[j] * momentum + statistics.mean[c] * (1.0 - momentum));
    moving_v[j] =
        static_cast<T>(moving_v[j] * momentum + statistics.variance[c] * (1.0 - momentum));
  }
}

template <typename T>
void store(const Tensor* target, bool accumulate, int64_t index, double value) {
  T& slot = target->data<T>()[index];
  slot = static_cast<T>(accumulate ? static_cast<double>(slot) + value : value);
}

bool wanted(const Tensor* gradient) {
  return gradient != nullptr && gradient->defined();
}

template <typename T>
void backward(const Tensor& x, const Tensor& gamma, double epsilon, const Tensor& y_grad,
              const backend::NormGradients& grads, CrossReplicaSum& replicas) {
  const Columns shape = columns_of(x);
  const auto columns = static_cast<size_t>(shape.columns);
  const T* in = x.data<T>();
  const T* dy = y_grad.data<T>();
  GlobalStatistics statistics = global_statistics(in, shape, epsilon, replicas);
  // This replica's sums of dy and dy * xhat, then the same over every replica (and N).
  std::vector<double> sums(2 * columns + 1, 0.0);
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (size_t j = 0; j < columns; ++j) {
      const size_t i = static_cast<size_t>(r * shape.columns) + j;
      const double xhat =
          (static_cast<double>(in[i]) - statistics.mean[j]) * statistics.inverse_sigma[j];
      sums[j] += static_cast<double>(dy[i]);
      sums[columns + j] += static_cast<double>(dy[i]) * xhat;
    }
  }
  sums[2 * columns] = static_cast<double>(shape.rows);
  for (size_t j = 0; j < columns; ++j) {
    const auto index = static_cast<int64_t>(j);
    if (wanted(grads.beta_grad)) store<T>(grads.beta_grad, grads.accumulate_beta, index, sums[j]);
    if (wanted(grads.gamma_grad)) {
      store<T>(grads.gamma_grad, grads.accumulate_gamma, index, sums[columns + j]);
    }
  }
  // Every replica sums, whether or not it wants dx: the calls must match across replicas.
  replicas.sum(sums);
  if (!wanted(grads.x_grad)) return;
  const double count = sums[2 * columns];
  for (int64_t r = 0; r < shape.rows; ++r) {
    for (size_t j = 0; j < columns; ++j) {
      const size_t i = static_cast<size_t>(r * shape.columns) + j;
      const double xhat =
          (static_cast<double>(in[i]) - statistics.mean[j]) * statistics.inverse_sigma[j];
      const double dx =
          value_or<T>(gamma, j, 1.0) * statistics.inverse_sigma[j] *
          (static_cast<double>(dy[i]) - sums[j] / count - xhat * sums[columns + j] / count);
      store<T>(grads.x_grad, grads.accumulate_x, static_cast<int64_t>(i), dx);
    }
  }
}

}  // namespace

void synchronized_batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                     double epsilon, double momentum, const Tensor& moving_mean,
                                     const Tensor& moving_variance, const Tensor& y,
                                     CrossReplicaSum& replicas) {
  require_cpu_float(x);
  if (x.dtype() == DType::kFloat64) {
    forward<double>(x, gamma, beta, epsilon, momentum, moving_mean, moving_variance, y, replicas);
  } else {
    forward<float>(x, gamma, beta, epsilon, momentum, moving_mean, moving_variance, y, replicas);
  }
}

void synchronized_batch_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                      const Tensor& y_grad, const backend::NormGradients& grads,
                                      CrossReplicaSum& replicas) {
  require_cpu_float(x);
  if (x.dtype() == DType::kFloat64) {
    backward<double>(x, gamma, epsilon, y_grad, grads, replicas);
  } else {
    backward<float>(x, gamma, epsilon, y_grad, grads, replicas);
  }
}

}  // namespace trainyard::graph::ops
