// Keras 3's losses with the sum_over_batch_size reduction, the CPU backend's formulas on the
// GPU: one block per row (max subtraction and log-sum-exp fused with the cross-entropy), the
// per-row values then summed in float64 by one block in a fixed order, so the scalar loss is
// written on the device with no host round trip.
#include <math_constants.h>

#include <string>

#include "backend/argument_checks.h"
#include "backend/cuda/block_reduce.cuh"
#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/labels.cuh"

namespace trainyard::backend::cuda {
namespace {

constexpr double kEpsilon = 1e-7;

// The scalar loss, or its gradient: one element of y_pred's dtype.
void require_scalar(const Loss& loss, const char* what, const Tensor& scalar,
                    const Tensor& y_pred) {
  if (!scalar.defined() || scalar.num_elements() != 1 || scalar.dtype() != y_pred.dtype()) {
    throw ShapeError(std::string(loss_name(loss)) + ": " + what + " " + scalar.to_string() +
                     " must be a scalar of the dtype of " + y_pred.to_string());
  }
}

// Everything a row kernel reads, by value.
template <typename T>
struct LossRows {
  LossKind kind;
  bool from_logits;
  T label_smoothing;
  const T* pred;
  const T* truth;  // null for sparse losses
  LabelView labels;
  const T* weights;  // null: all ones
  int64_t rows;
  int64_t columns;

  __device__ T smooth(T y) const {
    if (label_smoothing == T(0)) return y;
    if (kind == LossKind::kBinaryCrossentropy) {
      return y * (T(1) - label_smoothing) + T(0.5) * label_smoothing;
    }
    return y * (T(1) - label_smoothing) + label_smoothing / static_cast<T>(columns);
  }

  __device__ static T clip(T p) {
    const T low = static_cast<T>(kEpsilon), high = static_cast<T>(1.0 - kEpsilon);
    return p < low ? low : (p > high ? high : p);
  }
  __device__ static bool inside_clip(T p) {
    return p >= static_cast<T>(kEpsilon) && p <= static_cast<T>(1.0 - kEpsilon);
  }

  // check_labels reports a bad label at the host's next wait; here it reads as no class.
  __device__ int64_t label(int64_t r) const { return static_cast<int64_t>(label_at(labels, r)); }
  __device__ bool label_inside(int64_t k) const { return k >= 0 && k < columns; }

  // log(sum(exp(p))) over row p, stable: the row's maximum subtracted before exp.
  __device__ T log_sum_exp(const T* p) const {
    T local_max = p[0];
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      if (p[j] > local_max) local_max = p[j];
    }
    const T max_value = block_max(local_max);
    double local_sum = 0;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      local_sum += static_cast<double>(device_exp(p[j] - max_value));
    }
    return max_value + device_log(static_cast<T>(block_sum(local_sum)));
  }

  // sum over the row of p, or of clip(p) for the sparse loss on probabilities.
  __device__ T row_sum(const T* p, bool clipped) const {
    double local = 0;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      local += static_cast<double>(clipped ? clip(p[j]) : p[j]);
    }
    return static_cast<T>(block_sum(local));
  }

  // Row r's loss value, returned to every thread of the block.
  __device__ double value(int64_t r) const {
    const T* p = pred + r * columns;
    const T* y = truth ? truth + r * columns : nullptr;
    double local = 0;
    switch (kind) {
      case LossKind::kMeanSquaredError:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const double d = static_cast<double>(p[j] - y[j]);
          local += d * d;
        }
        return block_sum(local) / static_cast<double>(columns);
      case LossKind::kMeanAbsoluteError:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          local += fabs(static_cast<double>(p[j] - y[j]));
        }
        return block_sum(local) / static_cast<double>(columns);
      case LossKind::kBinaryCrossentropy:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T t = smooth(y[j]);
          if (from_logits) {
            const T x = p[j];
            const T positive = x > T(0) ? x : T(0);
            local +=
                static_cast<double>(positive - x * t + device_log1p(device_exp(-device_abs(x))));
          } else {
            const T q = clip(p[j]);
            local -= static_cast<double>(t * device_log(q) + (T(1) - t) * device_log(T(1) - q));
          }
        }
        return block_sum(local) / static_cast<double>(columns);
      case LossKind::kCategoricalCrossentropy: {
        if (from_logits) {
          const T lse = log_sum_exp(p);
          for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
            local += static_cast<double>(smooth(y[j]) * (lse - p[j]));
          }
          return block_sum(local);
        }
        const T sum = row_sum(p, false);
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          local -= static_cast<double>(smooth(y[j]) * device_log(clip(p[j] / sum)));
        }
        return block_sum(local);
      }
      case LossKind::kSparseCategoricalCrossentropy: {
        const int64_t k = label(r);
        if (from_logits) {
          const T lse = log_sum_exp(p);
          return label_inside(k) ? static_cast<double>(lse - p[k]) : CUDART_NAN;
        }
        // log-softmax of the clipped log-probabilities: log(sum clip(p)) - log clip(p_k).
        const T sum = row_sum(p, true);
        return label_inside(k) ? static_cast<double>(device_log(sum) - device_log(clip(p[k])))
                               : CUDART_NAN;
      }
    }
    return 0;
  }

  // grad[r, j] (+)= scale * d value(r) / d p[j].
  __device__ void gradient(int64_t r, T scale, T* grad, bool accumulate) const {
    const T* p = pred + r * columns;
    const T* y = truth ? truth + r * columns : nullptr;
    T* g = grad + r * columns;
    auto put = [&](int64_t j, T value) { g[j] = accumulate ? g[j] + value : value; };
    const T inverse_columns = T(1) / static_cast<T>(columns);
    switch (kind) {
      case LossKind::kMeanSquaredError:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          put(j, scale * T(2) * (p[j] - y[j]) * inverse_columns);
        }
        return;
      case LossKind::kMeanAbsoluteError:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T d = p[j] - y[j];
          const T sign = d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
          put(j, scale * sign * inverse_columns);
        }
        return;
      case LossKind::kBinaryCrossentropy:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T t = smooth(y[j]);
          T d;
          if (from_logits) {
            const T x = p[j];
            const T s =
                x >= T(0) ? T(1) / (T(1) + device_exp(-x)) : device_exp(x) / (T(1) + device_exp(x));
            d = s - t;
          } else {
            const T q = p[j];
            d = inside_clip(q) ? -(t / q) + (T(1) - t) / (T(1) - q) : T(0);
          }
          put(j, scale * d * inverse_columns);
        }
        return;
      case LossKind::kCategoricalCrossentropy: {
        if (from_logits) {
          const T lse = log_sum_exp(p);
          double local = 0;
          for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
            local += static_cast<double>(smooth(y[j]));
          }
          const T target_sum = static_cast<T>(block_sum(local));
          for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
            put(j, scale * (device_exp(p[j] - lse) * target_sum - smooth(y[j])));
          }
          return;
        }
        // value = -sum_j t_j log clip(q_j), q = p / s: dq_j/dp_i = (delta_ij - q_j) / s.
        const T sum = row_sum(p, false);
        double local = 0;  // sum_j (d value / d q_j) * q_j
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T q = p[j] / sum;
          const T dq = inside_clip(q) ? -smooth(y[j]) / q : T(0);
          local += static_cast<double>(dq * q);
        }
        const T weighted = static_cast<T>(block_sum(local));
        for (int64_t i = threadIdx.x; i < columns; i += blockDim.x) {
          const T q = p[i] / sum;
          const T dq = inside_clip(q) ? -smooth(y[i]) / q : T(0);
          put(i, scale * (dq - weighted) / sum);
        }
        return;
      }
      case LossKind::kSparseCategoricalCrossentropy: {
        const int64_t k = label(r);
        const T nan = static_cast<T>(CUDART_NAN);
        if (from_logits) {
          const T lse = log_sum_exp(p);
          for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
            const T value = device_exp(p[j] - lse) - (j == k ? T(1) : T(0));
            put(j, label_inside(k) ? scale * value : nan);
          }
          return;
        }
        const T sum = row_sum(p, true);
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T d = inside_clip(p[j]) ? (T(1) / sum - (j == k ? T(1) / p[j] : T(0))) : T(0);
          put(j, label_inside(k) ? scale * d : nan);
        }
        return;
      }
    }
  }
};

// Grid sizes for one block per row, rows beyond the grid taken in turn.
unsigned int row_blocks(int64_t rows) {
  return static_cast<unsigned int>(std::clamp<int64_t>(rows, 1, 65535));
}

template <typename T>
__global__ void loss_rows_kernel(LossRows<T> rows, double* weighted_values) {
  for (int64_t r = blockIdx.x; r < rows.rows; r += gridDim.x) {
    const double value = rows.value(r);
    if (threadIdx.x == 0) {
      weighted_values[r] = value * (rows.weights ? static_cast<double>(rows.weights[r]) : 1.0);
    }
  }
}

// One block: out = sum of values / count, summed in float64 in an order fixed by count alone.
template <typename T>
__global__ void loss_mean_kernel(const double* values, int64_t count, T* out) {
  double local = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) local += values[i];
  const double total = block_sum(local);
  if (threadIdx.x == 0) out[0] = count == 0 ? T(0) : static_cast<T>(total / double(count));
}

template <typename T>
__global__ void loss_gradient_kernel(LossRows<T> rows, const T* loss_grad, T* grad,
                                     bool accumulate) {
  const T upstream = loss_grad[0] / static_cast<T>(rows.rows);
  for (int64_t r = blockIdx.x; r < rows.rows; r += gridDim.x) {
    rows.gradient(r, upstream * (rows.weights ? rows.weights[r] : T(1)), grad, accumulate);
  }
}

template <typename T>
LossRows<T> make_rows(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                      const Tensor& sample_weight) {
  return LossRows<T>{
      loss.kind,
      loss.from_logits,
      static_cast<T>(loss.label_smoothing),
      static_cast<const T*>(y_pred.raw_data()),
      is_sparse_loss(loss) ? nullptr : static_cast<const T*>(y_true.raw_data()),
      is_sparse_loss(loss) ? label_view(y_true) : LabelView{},
      sample_weight.defined() ? static_cast<const T*>(sample_weight.raw_data()) : nullptr,
      row_count(y_pred),
      last_dim(y_pred)};
}

}  // namespace

void CudaBackend::loss_forward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                               const Tensor& sample_weight, const Tensor& loss_value) {
  check_loss_arguments(loss, y_pred, y_true, sample_weight);
  require_scalar(loss, "loss_value", loss_value, y_pred);
  const char* entry = loss_name(loss);
  require_here(entry, "y_pred", y_pred);
  require_here(entry, "y_true", y_true);
  require_here(entry, "sample_weight", sample_weight);
  require_here(entry, "loss_value", loss_value);
  activate();
  const int64_t rows = row_count(y_pred);
  if (is_sparse_loss(loss)) check_labels(*this, entry, y_true, rows, last_dim(y_pred));
  dispatch_float(y_pred.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    auto* values = static_cast<double*>(scratch(
        ScratchSlot::kReduction, sizeof(double) * static_cast<size_t>(rows > 0 ? rows : 1)));
    if (rows > 0) {
      loss_rows_kernel<T><<<row_blocks(rows), kThreadsPerBlock, 0, stream_>>>(
          make_rows<T>(loss, y_pred, y_true, sample_weight), values);
      TY_CUDA_CHECK_LAUNCH("loss_rows_kernel");
    }
    loss_mean_kernel<T>
        <<<1, kThreadsPerBlock, 0, stream_>>>(values, rows, static_cast<T*>(loss_value.raw_data()));
    TY_CUDA_CHECK_LAUNCH("loss_mean_kernel");
  });
}

void CudaBackend::loss_backward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                                const Tensor& sample_weight, const Tensor& loss_grad,
                                const Tensor& y_pred_grad, bool accumulate) {
  check_loss_arguments(loss, y_pred, y_true, sample_weight);
  const char* entry = loss_name(loss);
  require_same_size(entry, y_pred, y_pred_grad);
  require_scalar(loss, "loss_grad", loss_grad, y_pred);
  require_here(entry, "y_pred", y_pred);
  require_here(entry, "y_true", y_true);
  require_here(entry, "sample_weight", sample_weight);
  require_here(entry, "loss_grad", loss_grad);
  require_here(entry, "y_pred_grad", y_pred_grad);
  activate();
  const int64_t rows = row_count(y_pred);
  if (rows == 0) return;
  if (is_sparse_loss(loss)) check_labels(*this, entry, y_true, rows, last_dim(y_pred));
  dispatch_float(y_pred.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    loss_gradient_kernel<T><<<row_blocks(rows), kThreadsPerBlock, 0, stream_>>>(
        make_rows<T>(loss, y_pred, y_true, sample_weight),
        static_cast<const T*>(loss_grad.raw_data()), static_cast<T*>(y_pred_grad.raw_data()),
        accumulate);
    TY_CUDA_CHECK_LAUNCH("loss_gradient_kernel");
  });
}

}  // namespace trainyard::backend::cuda
