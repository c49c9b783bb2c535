#include "keras/sample_weights.h"

#include <cmath>

#include "core/error.h"

namespace trainyard::keras {
namespace {

// The class of row `r` of y, viewed as [rows, columns].
int64_t class_of(const Tensor& y, int64_t r, int64_t columns) {
  if (columns == 1) return static_cast<int64_t>(std::nearbyint(y.item(r)));
  int64_t best = 0;
  double best_value = y.item(r * columns);
  for (int64_t j = 1; j < columns; ++j) {
    double value = y.item(r * columns + j);
    if (value > best_value) {  // ties go to the first index, as argmax does
      best = j;
      best_value = value;
    }
  }
  return best;
}

}  // namespace

Tensor checked_sample_weight(const std::string& method, const Tensor& sample_weight,
                             int64_t samples) {
  const Shape& shape = sample_weight.shape();
  bool one_per_sample = shape.rank() >= 1 && shape.rank() <= 2 && shape[0] == samples &&
                        (shape.rank() == 1 || shape[1] == 1);
  if (!one_per_sample) {
    throw ShapeError(method + ": sample_weight must hold one weight per sample, shape [" +
                     std::to_string(samples) + "], got " + sample_weight.to_string());
  }
  Tensor weights = sample_weight.dtype() == DType::kFloat32 ? sample_weight
                                                            : sample_weight.cast(DType::kFloat32);
  return weights.reshape(Shape{samples});
}

Tensor class_weight_to_sample_weight(const Tensor& y,
                                     const std::map<int64_t, double>& class_weight) {
  for (const auto& [index, weight] : class_weight) {
    if (index < 0 || !std::isfinite(weight)) {
      throw ValueError("fit: class_weight maps class indices >= 0 to finite weights, got {" +
                       std::to_string(index) + ": " + std::to_string(weight) + "}");
    }
  }
  if (y.shape().rank() < 1 || y.shape().rank() > 2) {
    throw ValueError(
        "fit: class_weight needs targets of shape [N], [N, 1] or one-hot [N, C], got " +
        y.to_string());
  }
  const int64_t rows = y.shape()[0];
  const int64_t columns = y.shape().rank() == 2 ? y.shape()[1] : 1;
  Tensor weights = Tensor::zeros(Shape{rows}, DType::kFloat32);
  float* out = weights.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    auto it = class_weight.find(class_of(y, r, columns));
    out[r] = it == class_weight.end() ? 1.0f : static_cast<float>(it->second);
  }
  return weights;
}

}  // namespace trainyard::keras
