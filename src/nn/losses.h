// Loss functions as compile() takes them: a Keras identifier ("sparse_categorical_crossentropy",
// "mse", ...) or a configured object from the factories below.
#pragma once

#include <string>

#include "backend/kernels.h"
#include "core/shape.h"

namespace trainyard::nn {

struct LossFunction {
  // Keras identifier as given (also: "crossentropy"/"ce", resolved from shapes).
  std::string name = "mean_squared_error";
  bool from_logits = false;
  double label_smoothing = 0.0;

  LossFunction() = default;
  LossFunction(const char* identifier);         // NOLINT(google-explicit-constructor)
  LossFunction(const std::string& identifier);  // NOLINT(google-explicit-constructor)

  // Throws ValueError for an unknown name or a label_smoothing outside [0, 1].
  void validate() const;

  // The kernel configuration for predictions of `prediction_shape` and targets of
  // `target_shape` (both with the batch dimension). Throws ValueError for an unknown name
  // and ShapeError when the shapes cannot go with this loss.
  backend::Loss resolve(const Shape& prediction_shape, const Shape& target_shape) const;
};

struct CrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;  // binary and categorical only
};

namespace losses {
LossFunction MeanSquaredError();
LossFunction MeanAbsoluteError();
LossFunction BinaryCrossentropy(CrossentropyOptions options = {});
LossFunction CategoricalCrossentropy(CrossentropyOptions options = {});
LossFunction SparseCategoricalCrossentropy(CrossentropyOptions options = {});
}  // namespace losses

}  // namespace trainyard::nn
