// Metric updates on the GPU: one block per row computes the row's value (the CPU's argmax tie
// rule and binary threshold), then one block adds their float64 sum and the row count into
// the device-resident state, so a training step reads nothing back.
#include <string>

#include "backend/cuda/block_reduce.cuh"
#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/labels.cuh"

namespace trainyard::backend::cuda {
namespace {

template <typename T>
struct MetricRows {
  MetricKind kind;
  T threshold;
  const T* pred;
  const T* truth;  // null for sparse accuracy
  LabelView labels;
  int64_t rows;
  int64_t columns;

  // Row r's value, returned to every thread of the block.
  __device__ double value(int64_t r) const {
    const T* p = pred + r * columns;
    const T* y = truth ? truth + r * columns : nullptr;
    double local = 0;
    switch (kind) {
      case MetricKind::kSparseCategoricalAccuracy:
        return static_cast<double>(block_argmax(p, columns)) == label_at(labels, r) ? 1.0 : 0.0;
      case MetricKind::kCategoricalAccuracy: {
        const int64_t predicted = block_argmax(p, columns);
        return predicted == block_argmax(y, columns) ? 1.0 : 0.0;
      }
      case MetricKind::kBinaryAccuracy:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const T predicted = p[j] > threshold ? T(1) : T(0);
          local += predicted == y[j] ? 1.0 : 0.0;
        }
        return block_sum(local) / static_cast<double>(columns);
      case MetricKind::kMeanSquaredError:
      case MetricKind::kMeanAbsoluteError:
        for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
          const double d = static_cast<double>(p[j]) - static_cast<double>(y[j]);
          local += kind == MetricKind::kMeanSquaredError ? d * d : fabs(d);
        }
        return block_sum(local) / static_cast<double>(columns);
    }
    return 0;
  }
};

template <typename T>
__global__ void metric_rows_kernel(MetricRows<T> rows, double* values) {
  for (int64_t r = blockIdx.x; r < rows.rows; r += gridDim.x) {
    const double value = rows.value(r);
    if (threadIdx.x == 0) values[r] = value;
  }
}

// One block: state += (sum of values in a fixed order, count).
__global__ void metric_state_kernel(const double* values, int64_t count, double* state) {
  double local = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) local += values[i];
  const double total = block_sum(local);
  if (threadIdx.x == 0) {
    state[0] += total;
    state[1] += static_cast<double>(count);
  }
}

__global__ void mean_update_kernel(LabelView value, double weight, double* state) {
  state[0] += label_at(value, 0) * weight;
  state[1] += weight;
}

void require_state(const char* entry, const Tensor& state) {
  if (state.dtype() != DType::kFloat64) {
    throw ShapeError(std::string(entry) + ": expected float64, got " + state.to_string());
  }
  if (state.num_elements() < 2) {
    throw ShapeError(std::string(entry) + ": state " + state.to_string() +
                     " needs two elements (total, count)");
  }
}

}  // namespace

void CudaBackend::metric_update(const Metric& metric, const Tensor& y_pred, const Tensor& y_true,
                                const Tensor& state) {
  require_state("metric_update", state);
  const int64_t rows = row_count(y_pred);
  const int64_t columns = last_dim(y_pred);
  const bool sparse = metric.kind == MetricKind::kSparseCategoricalAccuracy;
  if (sparse
          ? y_true.num_elements() != rows
          : (y_true.num_elements() != y_pred.num_elements() || y_true.dtype() != y_pred.dtype())) {
    throw ShapeError("metric_update: targets " + y_true.to_string() + " do not match predictions " +
                     y_pred.to_string());
  }
  require_here("metric_update", "y_pred", y_pred);
  require_here("metric_update", "y_true", y_true);
  require_here("metric_update", "state", state);
  activate();
  dispatch_float(y_pred.dtype(), "metric_update", [&](auto zero) {
    using T = decltype(zero);
    if (sparse) check_labels(*this, "sparse_categorical_accuracy", y_true, rows, columns);
    auto* values = static_cast<double*>(scratch(
        ScratchSlot::kReduction, sizeof(double) * static_cast<size_t>(rows > 0 ? rows : 1)));
    if (rows > 0) {
      const MetricRows<T> metric_rows{metric.kind,
                                      static_cast<T>(metric.threshold),
                                      static_cast<const T*>(y_pred.raw_data()),
                                      sparse ? nullptr : static_cast<const T*>(y_true.raw_data()),
                                      sparse ? label_view(y_true) : LabelView{},
                                      rows,
                                      columns};
      metric_rows_kernel<T><<<static_cast<unsigned int>(std::min<int64_t>(rows, 65535)),
                              kThreadsPerBlock, 0, stream_>>>(metric_rows, values);
      TY_CUDA_CHECK_LAUNCH("metric_rows_kernel");
    }
    metric_state_kernel<<<1, kThreadsPerBlock, 0, stream_>>>(
        values, rows, static_cast<double*>(state.raw_data()));
    TY_CUDA_CHECK_LAUNCH("metric_state_kernel");
  });
}

void CudaBackend::mean_update(const Tensor& value, double weight, const Tensor& state) {
  require_state("mean_update", state);
  if (!value.defined() || value.num_elements() < 1) {
    throw ShapeError("mean_update: value " + value.to_string() + " must hold one element");
  }
  require_here("mean_update", "value", value);
  require_here("mean_update", "state", state);
  dispatch_float(value.dtype(), "mean_update", [](auto) {});
  activate();
  mean_update_kernel<<<1, 1, 0, stream_>>>(label_view(value), weight,
                                           static_cast<double*>(state.raw_data()));
  TY_CUDA_CHECK_LAUNCH("mean_update_kernel");
}

}  // namespace trainyard::backend::cuda
