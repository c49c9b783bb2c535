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

}  // namespace

RunningMean::RunningMean(backend::Backend& backend)
    : backend_(&backend), state_(Tensor::zeros(Shape{2}, DType::kFloat64, backend.allocator())) {
  if (!backend.device().is_cpu()) host_state_ = Tensor::zeros(Shape{2}, DType::kFloat64);
}

void RunningMean::reset() {
  backend_->fill(state_, 0);
}

double RunningMean::result() const {
  const Tensor* host = &state_;
  if (host_state_.defined()) {
    backend_->copy_to_host(state_, host_state_);
    host = &host_state_;
  }
  const double* values = host->data<double>();
  return values[1] == 0 ? 0.0 : values[0] / values[1];
}

Metric::Metric(std::string name, const Shape& prediction_shape, const Shape& target_shape,
               backend::Backend& backend)
    : name_(std::move(name)),
      kernel_(resolve_metric(name_, prediction_shape, target_shape)),
      state_(backend) {}

void Metric::reset() {
  state_.reset();
}

void Metric::update(backend::Backend& backend, const Tensor& y_pred, const Tensor& y_true) {
  backend.metric_update(kernel_, y_pred, y_true, state_.state());
}

double Metric::result() const {
  return state_.result();
}

MeanTracker::MeanTracker(backend::Backend& backend) : state_(backend) {}
void MeanTracker::reset() {
  state_.reset();
}
void MeanTracker::update(backend::Backend& backend, const Tensor& value, double weight) {
  backend.mean_update(value, weight, state_.state());
}
double MeanTracker::result() const {
  return state_.result();
}

}  // namespace trainyard::nn
