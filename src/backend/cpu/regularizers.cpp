// Keras's L1 / L2 weight penalties (keras-semantics.md section 1.11): l1 * sum |w| +
// l2 * sum w^2, with no 1/2 on the L2 term. The sum runs over fixed chunks in float64, so the
// penalty is the same bits on any thread count.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/reductions.h"

namespace trainyard::backend {

void CpuBackend::regularizer_forward(double l1, double l2, const Tensor& weights,
                                     const Tensor& penalty) {
  if (penalty.num_elements() != 1 || penalty.dtype() != weights.dtype()) {
    throw ShapeError("regularizer_forward: penalty " + penalty.to_string() +
                     " must be a scalar of the dtype of " + weights.to_string());
  }
  cpu::dispatch_float(weights.dtype(), "regularizer_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* w = weights.data<T>();
    int64_t count = weights.num_elements();
    // The weights as `count` rows of one value: the chunking depends only on the count.
    cpu::RowChunks chunks = cpu::row_chunks(count, 1);
    double* partial = reduction_scratch_.get<double>(static_cast<size_t>(chunks.count * 2 + 2));
    double* sums = partial + chunks.count * 2;  // [sum |w|, sum w^2]
    cpu::reduce_rows(count, 1, 2, partial, sums, [&](int64_t begin, int64_t end, double* slot) {
      double absolute = 0, squares = 0;
      for (int64_t i = begin; i < end; ++i) {
        double v = static_cast<double>(w[i]);
        absolute += std::abs(v);
        squares += v * v;
      }
      slot[0] += absolute;
      slot[1] += squares;
    });
    penalty.data<T>()[0] = static_cast<T>(l1 * sums[0] + l2 * sums[1]);
  });
}

void CpuBackend::regularizer_backward(double l1, double l2, const Tensor& weights,
                                      const Tensor& penalty_grad, const Tensor& weights_grad,
                                      bool accumulate) {
  cpu::require_same_size("regularizer_backward", weights, weights_grad);
  if (penalty_grad.num_elements() != 1 || penalty_grad.dtype() != weights.dtype()) {
    throw ShapeError("regularizer_backward: penalty gradient " + penalty_grad.to_string() +
                     " must be a scalar of the dtype of " + weights.to_string());
  }
  cpu::dispatch_float(weights.dtype(), "regularizer_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* w = weights.data<T>();
    T* grad = weights_grad.data<T>();
    T upstream = penalty_grad.data<T>()[0];
    T l1_scale = static_cast<T>(l1) * upstream;
    T l2_scale = static_cast<T>(2 * l2) * upstream;
    cpu::for_range(weights.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        // sign(0) = 0, as tf.sign: a zero weight gets no L1 push.
        T sign = w[i] > T(0) ? T(1) : (w[i] < T(0) ? T(-1) : T(0));
        T value = l1_scale * sign + l2_scale * w[i];
        grad[i] = accumulate ? grad[i] + value : value;
      }
    });
  });
}

}  // namespace trainyard::backend
