// Keras 3's optimizer updates over the flat buffers of all trainable variables: one launch
// updates every parameter. Step constants (bias corrections and the like) are computed on the
// host exactly as the CPU backend computes them, in the variables' dtype; per-element
// arithmetic is in that dtype too.
#include <cmath>
#include <string>

#include "backend/argument_checks.h"
#include "backend/cuda/block_reduce.cuh"
#include "backend/cuda/cuda_common.cuh"

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
  T decay;  // weight_decay * learning_rate
  T learning_rate;
  T momentum;
  T alpha;  // Adam: lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
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
__device__ void sgd(const UpdateArgs<T>& a, int64_t i) {
  if (!a.momentum_on) {
    a.w[i] -= a.learning_rate * a.g[i];
    return;
  }
  T* m = a.slot_0;
  m[i] = -a.g[i] * a.learning_rate + m[i] * a.momentum;
  a.w[i] += a.nesterov ? -a.g[i] * a.learning_rate + m[i] * a.momentum : m[i];
}

template <typename T>
__device__ void adam(const UpdateArgs<T>& a, int64_t i) {
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
  a.w[i] -= a.alpha * m[i] / (device_sqrt(denominator_root) + a.epsilon);
}

template <typename T>
__device__ void rmsprop(const UpdateArgs<T>& a, int64_t i) {
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
  const T increment = a.learning_rate * g / device_sqrt(denominator);
  if (a.momentum_on) {
    momentum[i] = a.momentum * momentum[i] + increment;
    a.w[i] -= momentum[i];
  } else {
    a.w[i] -= increment;
  }
}

template <typename T>
__global__ void optimizer_update_kernel(UpdateArgs<T> a) {
  for (int64_t i = global_thread_index(); i < a.count; i += grid_stride()) {
    if (a.decay_on) a.w[i] -= a.w[i] * a.decay;
    switch (a.kind) {
      case OptimizerKind::kSgd:
        sgd(a, i);
        break;
      case OptimizerKind::kAdam:
      case OptimizerKind::kAdamW:
        adam(a, i);
        break;
      case OptimizerKind::kRmsprop:
        rmsprop(a, i);
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
  const T t = static_cast<T>(step.iteration + 1);
  const T beta_1 = static_cast<T>(step.beta_1), beta_2 = static_cast<T>(step.beta_2);
  UpdateArgs<T> a{};
  a.kind = step.kind;
  a.momentum_on = step.kind == OptimizerKind::kRmsprop ? step.momentum > 0.0 : step.momentum != 0.0;
  a.nesterov = step.nesterov;
  a.amsgrad = step.amsgrad;
  a.centered = step.centered;
  a.decay_on = step.weight_decay != 0.0;
  a.decay = static_cast<T>(step.weight_decay * step.learning_rate);
  a.learning_rate = static_cast<T>(step.learning_rate);
  a.momentum = static_cast<T>(step.momentum);
  a.alpha = static_cast<T>(step.learning_rate) * std::sqrt(T(1) - std::pow(beta_2, t)) /
            (T(1) - std::pow(beta_1, t));
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
  dispatch_float(parameters.dtype(), "optimizer_update", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = parameters.num_elements();
    if (count == 0) return;
    optimizer_update_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        make_args<T>(step, parameters, gradients, slot_0, slot_1, slot_2));
    TY_CUDA_CHECK_LAUNCH("optimizer_update_kernel");
  });
}

}  // namespace trainyard::backend::cuda
