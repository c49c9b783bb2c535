#include "nn/losses.h"

#include "core/error.h"

namespace trainyard::nn {
namespace {

LossFunction make(std::string name, CrossentropyOptions options) {
  LossFunction loss(std::move(name));
  loss.from_logits = options.from_logits;
  loss.label_smoothing = options.label_smoothing;
  return loss;
}

// Keras's rule for "crossentropy" and "accuracy": binary when the prediction has one
// column, sparse when targets have fewer dimensions or a single column, else categorical.
enum class TargetForm { kBinary, kSparse, kCategorical };

TargetForm target_form(const Shape& prediction, const Shape& target) {
  if (prediction[-1] == 1) return TargetForm::kBinary;
  if (target.rank() < prediction.rank() || (target[-1] == 1 && prediction[-1] > 1)) {
    return TargetForm::kSparse;
  }
  return TargetForm::kCategorical;
}

}  // namespace

LossFunction::LossFunction(const char* identifier) : name(identifier) {}
LossFunction::LossFunction(const std::string& identifier) : name(identifier) {}

void LossFunction::validate() const {
  // Any shape pair resolves the name; only the kind of error matters here.
  try {
    resolve(Shape{1, 2}, Shape{1, 2});
  } catch (const ShapeError&) {
  }
}

backend::Loss LossFunction::resolve(const Shape& prediction_shape,
                                    const Shape& target_shape) const {
  using backend::LossKind;
  backend::Loss loss{LossKind::kMeanSquaredError, from_logits, label_smoothing};
  if (name == "mean_squared_error" || name == "mse") {
    loss.kind = LossKind::kMeanSquaredError;
  } else if (name == "mean_absolute_error" || name == "mae") {
    loss.kind = LossKind::kMeanAbsoluteError;
  } else if (name == "binary_crossentropy" || name == "bce") {
    loss.kind = LossKind::kBinaryCrossentropy;
  } else if (name == "categorical_crossentropy" || name == "cce") {
    loss.kind = LossKind::kCategoricalCrossentropy;
  } else if (name == "sparse_categorical_crossentropy" || name == "scce") {
    loss.kind = LossKind::kSparseCategoricalCrossentropy;
  } else if (name == "crossentropy" || name == "ce") {
    switch (target_form(prediction_shape, target_shape)) {
      case TargetForm::kBinary:
        loss.kind = LossKind::kBinaryCrossentropy;
        break;
      case TargetForm::kSparse:
        loss.kind = LossKind::kSparseCategoricalCrossentropy;
        break;
      case TargetForm::kCategorical:
        loss.kind = LossKind::kCategoricalCrossentropy;
        break;
    }
  } else {
    throw ValueError("unknown loss '" + name +
                     "' (known: mean_squared_error/mse, mean_absolute_error/mae, "
                     "binary_crossentropy, categorical_crossentropy, "
                     "sparse_categorical_crossentropy, crossentropy)");
  }
  if (label_smoothing < 0.0 || label_smoothing > 1.0) {
    throw ValueError("loss '" + name + "': label_smoothing must be in [0, 1], got " +
                     std::to_string(label_smoothing));
  }
  int64_t rows = prediction_shape.num_elements() / std::max<int64_t>(prediction_shape[-1], 1);
  bool sparse = loss.kind == LossKind::kSparseCategoricalCrossentropy;
  bool ok = sparse ? target_shape.num_elements() == rows
                   : target_shape.num_elements() == prediction_shape.num_elements();
  if (!ok) {
    throw ShapeError("loss '" + name + "': targets of shape " + target_shape.to_keras_string() +
                     " do not fit predictions of shape " + prediction_shape.to_keras_string() +
                     (sparse ? " (expected one class index per sample)"
                             : " (expected the same shape; for integer class labels use "
                               "sparse_categorical_crossentropy)"));
  }
  return loss;
}

namespace losses {
LossFunction MeanSquaredError() {
  return LossFunction("mean_squared_error");
}
LossFunction MeanAbsoluteError() {
  return LossFunction("mean_absolute_error");
}
LossFunction BinaryCrossentropy(CrossentropyOptions options) {
  return make("binary_crossentropy", options);
}
LossFunction CategoricalCrossentropy(CrossentropyOptions options) {
  return make("categorical_crossentropy", options);
}
LossFunction SparseCategoricalCrossentropy(CrossentropyOptions options) {
  options.label_smoothing = 0.0;
  return make("sparse_categorical_crossentropy", options);
}
}  // namespace losses

}  // namespace trainyard::nn
