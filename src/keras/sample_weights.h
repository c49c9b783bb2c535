// Per-sample loss weights for fit() and evaluate(): a user's sample_weight array checked
// against the data, and Keras's class_weight turned into one weight per sample.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"

namespace trainyard::keras {

// `sample_weight` ([N] or [N, 1], any numeric dtype) as a float32 [N] tensor (shared, not
// copied, when it already is one). Throws ShapeError naming `method` and sample_weight unless
// it holds exactly one weight per sample.
Tensor checked_sample_weight(const std::string& method, const Tensor& sample_weight,
                             int64_t samples);

// One float32 weight per sample of the targets `y` ([N], [N, 1] or one-hot [N, C]): the
// weight of its class, argmax(y) when C > 1 and round(y) (half to even) otherwise; classes
// missing from `class_weight` weigh 1. Throws ValueError for a negative or non-finite entry
// of class_weight and for targets of rank 3 or more.
Tensor class_weight_to_sample_weight(const Tensor& y,
                                     const std::map<int64_t, double>& class_weight);

}  // namespace trainyard::keras
