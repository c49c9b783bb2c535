#include "nn/metrics.h"

#include "core/error.h"

namespace trainyard::nn {
namespace {

backend::Metric resolve_metric(const std::string& name, const Shape& prediction,
                               const Shape& target) {
  using backend::MetricKind;
  if (name == "accuracy" || name == "acc") {
    // Keras 3: binary when predictions have one column; sparse when targets have lower rank
    // or a single column against several; categorical otherwise.
    if (prediction[-1] == 1) return {MetricKind::kBinaryAccuracy};
    if (target.rank() < prediction.rank() || (target[-1] == 1 && prediction[-1] > 1)) {
      return {MetricKind::kSparseCategoricalAccuracy};
    }
    return {MetricKind::kCategoricalAccuracy};
  }
  if (name == "binary_accuracy") return {MetricKind::kBinaryAccuracy};
  if (name == "categorical_accuracy") return {MetricKind::kCategoricalAccuracy};
  if (name == "sparse_categorical_accuracy") return {MetricKind::kSparseCategoricalAccuracy};
  if (name == "mse" || name == "mean_squared_error") return {MetricKind::kMeanSquaredError};
  if (name == "mae" || name == "mean_absolute_error") return {MetricKind::kMeanAbsoluteError};
  throw ValueError("unknown metric '" + name +
                   "' (known: accuracy/acc, binary_accuracy, categorical_accuracy, "
                   "sparse_categorical_accuracy, mse/mean_squared_error, "
                   "mae/mean_absolute_error)");
}

Tensor make_state(backend::Backend& backend) {
  return Tensor::zeros(Shape{2}, DType::kFloat64, backend.allocator());
}

double state_result(const Tensor& state) {
  const double* values = state.data<double>();
  return values[1] == 0 ? 0.0 : values[0] / values[1];
}

}  // namespace

Metric::Metric(std::string name, const Shape& prediction_shape, const Shape& target_shape,
               backend::Backend& backend)
    : name_(std::move(name)),
      kernel_(resolve_metric(name_, prediction_shape, target_shape)),
      state_(make_state(backend)) {}

void Metric::reset() {
  state_.fill(0);
}

void Metric::update(backend::Backend& backend, const Tensor& y_pred, const Tensor& y_true) {
  backend.metric_update(kernel_, y_pred, y_true, state_);
}

double Metric::result() const {
  return state_result(state_);
}

MeanTracker::MeanTracker(backend::Backend& backend) : state_(make_state(backend)) {}
void MeanTracker::reset() {
  state_.fill(0);
}
void MeanTracker::update(backend::Backend& backend, const Tensor& value, double weight) {
  backend.mean_update(value, weight, state_);
}
double MeanTracker::result() const {
  return state_result(state_);
}

}  // namespace trainyard::nn
