// Keras 3's optimizer updates over the flat buffers of all trainable variables: one launch
// updates every parameter. Step constants (bias corrections and the like) are computed on the
// host exactly as the CPU backend computes them, in the variables' dtype; per-element
// arithmetic is in that dtype too. A captured update reads the constants that change with the
// step count from the device step scalars instead, derived on the host by the same code.
#include <cmath>
#include <string>
#include <type_traits>

#include "backend/argument_checks.h"
#include "backend/cuda/block_reduce.cuh"
#include "backend/cuda/cuda_common.cuh"
#include "backend/cuda/step_scalars.h"

namespace trainyard::backend::cuda {
namespace {

// One step's constants and buffers, passed by value to the kernel.
template <typename T>
struct UpdateArgs {
  OptimizerKind kind;
  bool momentum_on;  // SGD: momentum != 0; RMSprop: momentum > 0
  bool nesterov;
  bool amsgrad;
  bool centered;
  bool decay_on;
  OptimizerScalars<T> scalars;  // by value for an eager update
  T momentum;
  T one_minus_beta_1;
  T one_minus_beta_2;
  T epsilon;
  T rho;
  T* w;
  const T* g;
  T* slot_0;
  T* slot_1;
  T* slot_2;
  int64_t count;
};

template <typename T>
__device__ void sgd(const UpdateArgs<T>& a, const OptimizerScalars<T>& s, int64_t i) {
  if (!a.momentum_on) {
    a.w[i] -= s.learning_rate * a.g[i];
    return;
  }
  T* m = a.slot_0;
  m[i] = -a.g[i] * s.learning_rate + m[i] * a.momentum;
  a.w[i] += a.nesterov ? -a.g[i] * s.learning_rate + m[i] * a.momentum : m[i];
}

template <typename T>
__device__ void adam(const UpdateArgs<T>& a, const OptimizerScalars<T>& s, int64_t i) {
  T* m = a.slot_0;
  T* v = a.slot_1;
  const T g = a.g[i];
  m[i] += (g - m[i]) * a.one_minus_beta_1;
  v[i] += (g * g - v[i]) * a.one_minus_beta_2;
  T denominator_root = v[i];
  if (a.amsgrad) {
    T* v_hat = a.slot_2;
    // std::max(v_hat, v): v_hat unless v_hat < v.
    v_hat[i] = v_hat[i] < v[i] ? v[i] : v_hat[i];
    denominator_root = v_hat[i];
  }
  a.w[i] -= s.alpha * m[i] / (device_sqrt(denominator_root) + a.epsilon);
}

template <typename T>
__device__ void rmsprop(const UpdateArgs<T>& a, const OptimizerScalars<T>& s, int64_t i) {
  T* velocity = a.slot_0;
  T* momentum = a.slot_1;
  T* average_gradient = a.slot_2;
  const T g = a.g[i];
  velocity[i] = a.rho * velocity[i] + (T(1) - a.rho) * g * g;
  T denominator = velocity[i] + a.epsilon;
  if (a.centered) {
    average_gradient[i] = a.rho * average_gradient[i] + (T(1) - a.rho) * g;
    denominator = velocity[i] - average_gradient[i] * average_gradient[i] + a.epsilon;
  }
  const T increment = s.learning_rate * g / device_sqrt(denominator);
  if (a.momentum_on) {
    momentum[i] = a.momentum * momentum[i] + increment;
    a.w[i] -= momentum[i];
  } else {
    a.w[i] -= increment;
  }
}

// `per_step`: the device step scalars' constants of a captured update, else null.
template <typename T>
__global__ void optimizer_update_kernel(UpdateArgs<T> a, const OptimizerScalars<T>* per_step) {
  const OptimizerScalars<T> s = per_step != nullptr ? *per_step : a.scalars;
  for (int64_t i = global_thread_index(); i < a.count; i += grid_stride()) {
    if (a.decay_on) a.w[i] -= a.w[i] * s.decay;
    switch (a.kind) {
      case OptimizerKind::kSgd:
        sgd(a, s, i);
        break;
      case OptimizerKind::kAdam:
      case OptimizerKind::kAdamW:
        adam(a, s, i);
        break;
      case OptimizerKind::kRmsprop:
        rmsprop(a, s, i);
        break;
    }
  }
}

// The step's constants in T, computed by the same expressions as the CPU backend's.
template <typename T>
UpdateArgs<T> make_args(const OptimizerStep& step, const Tensor& parameters,
                        const Tensor& gradients, const Tensor& slot_0, const Tensor& slot_1,
                        const Tensor& slot_2) {
  auto pointer = [](const Tensor& slot) {
    return slot.defined() ? static_cast<T*>(slot.raw_data()) : nullptr;
  };
  const T beta_1 = static_cast<T>(step.beta_1), beta_2 = static_cast<T>(step.beta_2);
  UpdateArgs<T> a{};
  a.kind = step.kind;
  a.momentum_on = step.kind == OptimizerKind::kRmsprop ? step.momentum > 0.0 : step.momentum != 0.0;
  a.nesterov = step.nesterov;
  a.amsgrad = step.amsgrad;
  a.centered = step.centered;
  a.decay_on = step.weight_decay != 0.0;
  a.scalars = optimizer_scalars<T>(step);
  a.momentum = static_cast<T>(step.momentum);
  a.one_minus_beta_1 = T(1) - beta_1;
  a.one_minus_beta_2 = T(1) - beta_2;
  a.epsilon = static_cast<T>(step.epsilon);
  a.rho = static_cast<T>(step.rho);
  a.w = static_cast<T*>(parameters.raw_data());
  a.g = static_cast<const T*>(gradients.raw_data());
  a.slot_0 = pointer(slot_0);
  a.slot_1 = pointer(slot_1);
  a.slot_2 = pointer(slot_2);
  a.count = parameters.num_elements();
  return a;
}

}  // namespace

template <typename T>
OptimizerScalars<T> optimizer_scalars(const OptimizerStep& step) {
  const T t = static_cast<T>(step.iteration + 1);
  const T beta_1 = static_cast<T>(step.beta_1), beta_2 = static_cast<T>(step.beta_2);
  OptimizerScalars<T> scalars{};
  scalars.learning_rate = static_cast<T>(step.learning_rate);
  scalars.decay = static_cast<T>(step.weight_decay * step.learning_rate);
  scalars.alpha = static_cast<T>(step.learning_rate) * std::sqrt(T(1) - std::pow(beta_2, t)) /
                  (T(1) - std::pow(beta_1, t));
  return scalars;
}
template OptimizerScalars<float> optimizer_scalars<float>(const OptimizerStep&);
template OptimizerScalars<double> optimizer_scalars<double>(const OptimizerStep&);

void CudaBackend::optimizer_update(const OptimizerStep& step, const Tensor& parameters,
                                   const Tensor& gradients, const Tensor& slot_0,
                                   const Tensor& slot_1, const Tensor& slot_2) {
  require_same_size("optimizer_update", parameters, gradients);
  check_optimizer_slots(step, parameters, slot_0, slot_1, slot_2);
  require_here("optimizer_update", "parameters", parameters);
  require_here("optimizer_update", "gradients", gradients);
  require_here("optimizer_update", "slot_0", slot_0);
  require_here("optimizer_update", "slot_1", slot_1);
  require_here("optimizer_update", "slot_2", slot_2);
  activate();
  const DeviceStepScalars* captured = captured_optimizer_step(step);
  dispatch_float(parameters.dtype(), "optimizer_update", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = parameters.num_elements();
    if (count == 0) return;
    const OptimizerScalars<T>* per_step = nullptr;
    if (captured != nullptr) {
      if constexpr (std::is_same_v<T, float>) {
        per_step = &captured->optimizer_float;
      } else if constexpr (std::is_same_v<T, double>) {
        per_step = &captured->optimizer_double;
      } else {
        refuse_in_capture("optimizer_update", "its dtype has no step scalars");
      }
    }
    optimizer_update_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        make_args<T>(step, parameters, gradients, slot_0, slot_1, slot_2), per_step);
    TY_CUDA_CHECK_LAUNCH("optimizer_update_kernel");
  });
}

}  // namespace trainyard::backend::cuda
