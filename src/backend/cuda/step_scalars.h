// The device-resident copy of a step's StepScalars that captured kernels read, so one recorded
// step replays with a new dropout step, learning rate and iteration. Optimizer constants are
// derived on the host, by the same expressions as an eager update, in both float dtypes.
#pragma once

#include <cstdint>

#include "backend/kernels.h"

namespace trainyard::backend::cuda {

// What an update's kernel needs from its step that changes as the step count advances.
template <typename T>
struct OptimizerScalars {
  T learning_rate;
  T decay;  // weight_decay * learning_rate
  T alpha;  // Adam: learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
};

// OptimizerScalars of `step` in T (defined in optimizers.cu for float and double).
template <typename T>
OptimizerScalars<T> optimizer_scalars(const OptimizerStep& step);

struct DeviceStepScalars {
  uint64_t dropout_step;
  OptimizerScalars<float> optimizer_float;
  OptimizerScalars<double> optimizer_double;
};

}  // namespace trainyard::backend::cuda
