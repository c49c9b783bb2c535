// Keras 3's optimizer update rules (keras-semantics.md section 3.2) over flat buffers that
// hold every trainable variable of a model, so one parallel pass updates them all.
// Arithmetic is in the variables' dtype, as Keras does.
#include <cmath>

#include "backend/argument_checks.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

// The buffers never alias one another; __restrict lets the loops vectorise without
// runtime overlap checks.
template <typename T>
struct Slots {
  T* __restrict slot_0;
  T* __restrict slot_1;
  T* __restrict slot_2;
};

template <typename T>
void sgd(const OptimizerStep& step, T* __restrict w, const T* __restrict g, Slots<T> slots,
         int64_t begin, int64_t end) {
  T lr = static_cast<T>(step.learning_rate);
  T mu = static_cast<T>(step.momentum);
  if (step.momentum == 0.0) {
    for (int64_t i = begin; i < end; ++i) w[i] -= lr * g[i];
    return;
  }
  T* m = slots.slot_0;
  for (int64_t i = begin; i < end; ++i) {
    m[i] = -g[i] * lr + m[i] * mu;
    w[i] += step.nesterov ? -g[i] * lr + m[i] * mu : m[i];
  }
}

template <typename T>
void adam(const OptimizerStep& step, T* __restrict w, const T* __restrict g, Slots<T> slots,
          int64_t begin, int64_t end) {
  // alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), in the variables' precision.
  T t = static_cast<T>(step.iteration + 1);
  T beta_1 = static_cast<T>(step.beta_1), beta_2 = static_cast<T>(step.beta_2);
  T alpha = static_cast<T>(step.learning_rate) * std::sqrt(T(1) - std::pow(beta_2, t)) /
            (T(1) - std::pow(beta_1, t));
  T epsilon = static_cast<T>(step.epsilon);
  T one_minus_beta_1 = T(1) - beta_1, one_minus_beta_2 = T(1) - beta_2;
  T* m = slots.slot_0;
  T* v = slots.slot_1;
  if (step.amsgrad) {
    T* v_hat = slots.slot_2;
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * one_minus_beta_1;
      v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
      v_hat[i] = std::max(v_hat[i], v[i]);
      w[i] -= alpha * m[i] / (std::sqrt(v_hat[i]) + epsilon);
    }
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    m[i] += (g[i] - m[i]) * one_minus_beta_1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
    w[i] -= alpha * m[i] / (std::sqrt(v[i]) + epsilon);
  }
}

template <typename T>
void rmsprop(const OptimizerStep& step, T* __restrict w, const T* __restrict g, Slots<T> slots,
             int64_t begin, int64_t end) {
  T lr = static_cast<T>(step.learning_rate);
  T rho = static_cast<T>(step.rho), epsilon = static_cast<T>(step.epsilon);
  T mu = static_cast<T>(step.momentum);
  T* velocity = slots.slot_0;
  T* momentum = slots.slot_1;
  T* average_gradient = slots.slot_2;
  for (int64_t i = begin; i < end; ++i) {
    velocity[i] = rho * velocity[i] + (T(1) - rho) * g[i] * g[i];
    T denominator = velocity[i] + epsilon;
    if (step.centered) {
      average_gradient[i] = rho * average_gradient[i] + (T(1) - rho) * g[i];
      denominator = velocity[i] - average_gradient[i] * average_gradient[i] + epsilon;
    }
    T increment = lr * g[i] / std::sqrt(denominator);
    if (step.momentum > 0.0) {
      momentum[i] = mu * momentum[i] + increment;
      w[i] -= momentum[i];
    } else {
      w[i] -= increment;
    }
  }
}

}  // namespace

void CpuBackend::optimizer_update(const OptimizerStep& step, const Tensor& parameters,
                                  const Tensor& gradients, const Tensor& slot_0,
                                  const Tensor& slot_1, const Tensor& slot_2) {
  cpu::require_same_size("optimizer_update", parameters, gradients);
  check_optimizer_slots(step, parameters, slot_0, slot_1, slot_2);
  cpu::dispatch_float(parameters.dtype(), "optimizer_update", [&](auto zero) {
    using T = decltype(zero);
    T* w = parameters.data<T>();
    const T* g = gradients.data<T>();
    auto pointer = [](const Tensor& slot) { return slot.defined() ? slot.data<T>() : nullptr; };
    Slots<T> slots{pointer(slot_0), pointer(slot_1), pointer(slot_2)};
    T decay = static_cast<T>(step.weight_decay * step.learning_rate);
    cpu::for_range(parameters.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      if (step.weight_decay != 0.0) {
        for (int64_t i = begin; i < end; ++i) w[i] -= w[i] * decay;
      }
      switch (step.kind) {
        case OptimizerKind::kSgd:
          sgd(step, w, g, slots, begin, end);
          break;
        case OptimizerKind::kAdam:
        case OptimizerKind::kAdamW:
          adam(step, w, g, slots, begin, end);
          break;
        case OptimizerKind::kRmsprop:
          rmsprop(step, w, g, slots, begin, end);
          break;
      }
    });
  });
}

}  // namespace trainyard::backend
