// Keras 3's losses (keras-semantics.md section 2) with the sum_over_batch_size reduction:
// per-row values reduced over the last axis, weighted, summed and divided by the row count.
// Probability inputs are clipped to [eps, 1 - eps] with eps = 1e-7 as Keras does, and the
// clip passes no gradient outside that range (TensorFlow's clip_by_value rule).
#include <algorithm>
#include <cmath>

#include "backend/argument_checks.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/label_reader.h"

namespace trainyard::backend {
namespace {

constexpr double kEpsilon = 1e-7;

template <typename T>
struct LossRows {
  const Loss& loss;
  const T* pred;
  const T* truth;  // null for sparse losses
  cpu::LabelReader labels;
  int64_t columns;

  T smooth(T y) const {
    T ls = static_cast<T>(loss.label_smoothing);
    if (ls == T(0)) return y;
    if (loss.kind == LossKind::kBinaryCrossentropy) return y * (T(1) - ls) + T(0.5) * ls;
    return y * (T(1) - ls) + ls / static_cast<T>(columns);
  }

  static T clip(T p) {
    return std::clamp(p, static_cast<T>(kEpsilon), static_cast<T>(1.0 - kEpsilon));
  }
  static bool inside_clip(T p) {
    return p >= static_cast<T>(kEpsilon) && p <= static_cast<T>(1.0 - kEpsilon);
  }

  // log(sum(exp(v))) over a row, stable.
  static T log_sum_exp(const T* v, int64_t n) {
    T max_value = v[0];
    for (int64_t j = 1; j < n; ++j) max_value = std::max(max_value, v[j]);
    T sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(v[j] - max_value);
    return max_value + std::log(sum);
  }

  // Per-row loss value.
  double value(int64_t r) const {
    const T* p = pred + r * columns;
    const T* y = truth ? truth + r * columns : nullptr;
    double total = 0;
    switch (loss.kind) {
      case LossKind::kMeanSquaredError:
        for (int64_t j = 0; j < columns; ++j) total += double(p[j] - y[j]) * double(p[j] - y[j]);
        return total / double(columns);
      case LossKind::kMeanAbsoluteError:
        for (int64_t j = 0; j < columns; ++j) total += std::abs(double(p[j] - y[j]));
        return total / double(columns);
      case LossKind::kBinaryCrossentropy:
        for (int64_t j = 0; j < columns; ++j) {
          T t = smooth(y[j]);
          if (loss.from_logits) {
            T x = p[j];
            total += std::max(x, T(0)) - x * t + std::log1p(std::exp(-std::abs(x)));
          } else {
            T q = clip(p[j]);
            total -= t * std::log(q) + (T(1) - t) * std::log(T(1) - q);
          }
        }
        return total / double(columns);
      case LossKind::kCategoricalCrossentropy: {
        if (loss.from_logits) {
          T lse = log_sum_exp(p, columns);
          for (int64_t j = 0; j < columns; ++j) total += smooth(y[j]) * (lse - p[j]);
          return total;
        }
        T sum = 0;
        for (int64_t j = 0; j < columns; ++j) sum += p[j];
        for (int64_t j = 0; j < columns; ++j) total -= smooth(y[j]) * std::log(clip(p[j] / sum));
        return total;
      }
      case LossKind::kSparseCategoricalCrossentropy: {
        int64_t k = labels(r);
        if (loss.from_logits) return log_sum_exp(p, columns) - p[k];
        // log-softmax of the clipped log-probabilities: log(sum clip(p)) - log clip(p_k).
        T sum = 0;
        for (int64_t j = 0; j < columns; ++j) sum += clip(p[j]);
        return std::log(sum) - std::log(clip(p[k]));
      }
    }
    return 0;
  }

  // grad[j] (+)= scale * d value(r) / d p[j].
  void gradient(int64_t r, T scale, T* grad, bool accumulate) const {
    const T* p = pred + r * columns;
    const T* y = truth ? truth + r * columns : nullptr;
    T* g = grad + r * columns;
    auto put = [&](int64_t j, T value) { g[j] = accumulate ? g[j] + value : value; };
    T inverse_columns = T(1) / static_cast<T>(columns);
    switch (loss.kind) {
      case LossKind::kMeanSquaredError:
        for (int64_t j = 0; j < columns; ++j)
          put(j, scale * T(2) * (p[j] - y[j]) * inverse_columns);
        return;
      case LossKind::kMeanAbsoluteError:
        for (int64_t j = 0; j < columns; ++j) {
          T d = p[j] - y[j];
          T sign = d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0));
          put(j, scale * sign * inverse_columns);
        }
        return;
      case LossKind::kBinaryCrossentropy:
        for (int64_t j = 0; j < columns; ++j) {
          T t = smooth(y[j]);
          T d;
          if (loss.from_logits) {
            T x = p[j];
            T s = x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
            d = s - t;
          } else {
            T q = p[j];
            d = inside_clip(q) ? -(t / q) + (T(1) - t) / (T(1) - q) : T(0);
          }
          put(j, scale * d * inverse_columns);
        }
        return;
      case LossKind::kCategoricalCrossentropy: {
        if (loss.from_logits) {
          T lse = log_sum_exp(p, columns);
          T target_sum = 0;
          for (int64_t j = 0; j < columns; ++j) target_sum += smooth(y[j]);
          for (int64_t j = 0; j < columns; ++j) {
            put(j, scale * (std::exp(p[j] - lse) * target_sum - smooth(y[j])));
          }
          return;
        }
        // value = -sum_j t_j log clip(q_j), q = p / s: dq_j/dp_i = (delta_ij - q_j) / s.
        T sum = 0;
        for (int64_t j = 0; j < columns; ++j) sum += p[j];
        T weighted = 0;  // sum_j (d value / d q_j) * q_j
        for (int64_t j = 0; j < columns; ++j) {
          T q = p[j] / sum;
          T dq = inside_clip(q) ? -smooth(y[j]) / q : T(0);
          weighted += dq * q;
        }
        for (int64_t i = 0; i < columns; ++i) {
          T q = p[i] / sum;
          T dq = inside_clip(q) ? -smooth(y[i]) / q : T(0);
          put(i, scale * (dq - weighted) / sum);
        }
        return;
      }
      case LossKind::kSparseCategoricalCrossentropy: {
        int64_t k = labels(r);
        if (loss.from_logits) {
          T lse = log_sum_exp(p, columns);
          for (int64_t j = 0; j < columns; ++j) {
            put(j, scale * (std::exp(p[j] - lse) - (j == k ? T(1) : T(0))));
          }
          return;
        }
        T sum = 0;
        for (int64_t j = 0; j < columns; ++j) sum += clip(p[j]);
        for (int64_t j = 0; j < columns; ++j) {
          T d = inside_clip(p[j]) ? (T(1) / sum - (j == k ? T(1) / p[j] : T(0))) : T(0);
          put(j, scale * d);
        }
        return;
      }
    }
  }
};

template <typename T>
LossRows<T> make_rows(const Loss& loss, const Tensor& y_pred, const Tensor& y_true) {
  int64_t columns = cpu::last_dim(y_pred);
  return LossRows<T>{loss, y_pred.data<T>(), is_sparse_loss(loss) ? nullptr : y_true.data<T>(),
                     cpu::LabelReader(loss_name(loss), y_true, columns), columns};
}

}  // namespace

void CpuBackend::loss_forward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                              const Tensor& sample_weight, const Tensor& loss_value) {
  check_loss_arguments(loss, y_pred, y_true, sample_weight);
  cpu::dispatch_float(y_pred.dtype(), loss_name(loss), [&](auto zero) {
    using T = decltype(zero);
    auto rows = make_rows<T>(loss, y_pred, y_true);
    const T* weights = sample_weight.defined() ? sample_weight.data<T>() : nullptr;
    int64_t row_total = cpu::row_count(y_pred);
    double total = 0;
    for (int64_t r = 0; r < row_total; ++r) {
      total += rows.value(r) * (weights ? double(weights[r]) : 1.0);
    }
    loss_value.data<T>()[0] = row_total == 0 ? T(0) : static_cast<T>(total / double(row_total));
  });
}

void CpuBackend::loss_backward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                               const Tensor& sample_weight, const Tensor& loss_grad,
                               const Tensor& y_pred_grad, bool accumulate) {
  check_loss_arguments(loss, y_pred, y_true, sample_weight);
  cpu::require_same_size(loss_name(loss), y_pred, y_pred_grad);
  cpu::dispatch_float(y_pred.dtype(), loss_name(loss), [&](auto zero) {
    using T = decltype(zero);
    auto rows = make_rows<T>(loss, y_pred, y_true);
    const T* weights = sample_weight.defined() ? sample_weight.data<T>() : nullptr;
    int64_t row_total = cpu::row_count(y_pred);
    if (row_total == 0) return;
    // Every label is checked before the first gradient is written: a bad label deep in the
    // batch must not leave an accumulated gradient half updated.
    if (is_sparse_loss(loss)) {
      for (int64_t r = 0; r < row_total; ++r) rows.labels(r);
    }
    T upstream = loss_grad.data<T>()[0] / static_cast<T>(row_total);
    T* grad = y_pred_grad.data<T>();
    int64_t grain = std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(rows.columns, 1));
    cpu::for_range(row_total, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        rows.gradient(r, upstream * (weights ? weights[r] : T(1)), grad, accumulate);
      }
    });
  });
}

}  // namespace trainyard::backend
