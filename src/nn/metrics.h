// Metrics: a running mean over batches, weighted by batch size, as Keras's MeanMetricWrapper
// keeps it. compile() takes names ("accuracy", "mae", ...), resolved against the shapes of
// predictions and targets the way Keras resolves them; logs keep the name as typed.
#pragma once

#include <string>

#include "backend/backend.h"

namespace trainyard::nn {

// A float64 [total, count] pair on a backend's device, read back through a host mirror when
// that device is not the CPU, so result() works wherever the state lives.
class RunningMean {
 public:
  explicit RunningMean(backend::Backend& backend);
  const Tensor& state() const { return state_; }
  void reset();
  double result() const;

 private:
  backend::Backend* backend_;
  Tensor state_;
  Tensor host_state_;  // defined only for a device state
};

class Metric {
 public:
  // `name` as the user typed it; resolved once shapes are known. Throws ValueError for an
  // unknown name, listing the known ones.
  Metric(std::string name, const Shape& prediction_shape, const Shape& target_shape,
         backend::Backend& backend);

  const std::string& name() const { return name_; }
  const backend::Metric& kernel() const { return kernel_; }
  void reset();
  void update(backend::Backend& backend, const Tensor& y_pred, const Tensor& y_true);
  // total / count, or 0 before the first update.
  double result() const;

 private:
  std::string name_;
  backend::Metric kernel_;
  RunningMean state_;
};

// The running mean of a scalar (the logged loss), each value weighted (by batch size).
class MeanTracker {
 public:
  explicit MeanTracker(backend::Backend& backend);
  void reset();
  void update(backend::Backend& backend, const Tensor& value, double weight);
  double result() const;

 private:
  RunningMean state_;
};

}  // namespace trainyard::nn
