// Metric updates: each row reduces to one value (keras-semantics.md section 4) and the
// state accumulates (sum of values, number of rows), a running mean weighted by batch size.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/label_reader.h"

namespace trainyard::backend {
namespace {

template <typename T>
int64_t argmax(const T* row, int64_t columns) {
  int64_t best = 0;
  for (int64_t j = 1; j < columns; ++j) {
    if (row[j] > row[best]) best = j;  // ties keep the first index, as argmax does
  }
  return best;
}

template <typename T>
double row_value(const Metric& metric, const T* p, const Tensor& y_true,
                 const cpu::LabelReader& labels, int64_t r, int64_t columns) {
  switch (metric.kind) {
    case MetricKind::kSparseCategoricalAccuracy:
      return argmax(p, columns) == labels(r) ? 1.0 : 0.0;
    case MetricKind::kCategoricalAccuracy: {
      const T* y = y_true.data<T>() + r * columns;
      return argmax(p, columns) == argmax(y, columns) ? 1.0 : 0.0;
    }
    case MetricKind::kBinaryAccuracy: {
      const T* y = y_true.data<T>() + r * columns;
      double matches = 0;
      for (int64_t j = 0; j < columns; ++j) {
        T predicted = p[j] > static_cast<T>(metric.threshold) ? T(1) : T(0);
        matches += predicted == y[j] ? 1.0 : 0.0;
      }
      return matches / double(columns);
    }
    case MetricKind::kMeanSquaredError:
    case MetricKind::kMeanAbsoluteError: {
      const T* y = y_true.data<T>() + r * columns;
      double total = 0;
      for (int64_t j = 0; j < columns; ++j) {
        double d = double(p[j]) - double(y[j]);
        total += metric.kind == MetricKind::kMeanSquaredError ? d * d : std::abs(d);
      }
      return total / double(columns);
    }
  }
  return 0;
}

}  // namespace

void CpuBackend::metric_update(const Metric& metric, const Tensor& y_pred, const Tensor& y_true,
                               const Tensor& state) {
  cpu::require_dtype("metric_update", state, DType::kFloat64);
  int64_t rows = cpu::row_count(y_pred);
  int64_t columns = cpu::last_dim(y_pred);
  bool sparse = metric.kind == MetricKind::kSparseCategoricalAccuracy;
  if (sparse
          ? y_true.num_elements() != rows
          : (y_true.num_elements() != y_pred.num_elements() || y_true.dtype() != y_pred.dtype())) {
    throw ShapeError("metric_update: targets " + y_true.to_string() + " do not match predictions " +
                     y_pred.to_string());
  }
  cpu::dispatch_float(y_pred.dtype(), "metric_update", [&](auto zero) {
    using T = decltype(zero);
    const T* p = y_pred.data<T>();
    cpu::LabelReader labels("sparse_categorical_accuracy", y_true, columns);
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      total += row_value(metric, p + r * columns, y_true, labels, r, columns);
    }
    double* sums = state.data<double>();
    sums[0] += total;
    sums[1] += static_cast<double>(rows);
  });
}

}  // namespace trainyard::backend
