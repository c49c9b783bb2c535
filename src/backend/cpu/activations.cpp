// Activation functions and their derivatives, elementwise (softmax: per row).
#include <cmath>
#include <numbers>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/reductions.h"

namespace trainyard::backend {
namespace {

template <typename T>
T sigmoid(T x) {
  // Two branches keep exp's argument non-positive, so neither overflows.
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
T forward_value(const Activation& activation, T x) {
  switch (activation.kind) {
    case ActivationKind::kLinear:
      return x;
    case ActivationKind::kRelu:
      return x > T(0) ? x : T(0);
    case ActivationKind::kSigmoid:
      return sigmoid(x);
    case ActivationKind::kTanh:
      return std::tanh(x);
    case ActivationKind::kGelu:
      // 0.5 * (1 + erf(z)) written as 0.5 * erfc(-z): for negative x, 1 + erf(z) cancels
      // to a few significant bits in float32 (gelu(-5) came out 4% off).
      return T(0.5) * x * std::erfc(-x * T(std::numbers::sqrt2 / 2));
    case ActivationKind::kSilu:
      return x * sigmoid(x);
    case ActivationKind::kLeakyRelu:
      return x > T(0) ? x : static_cast<T>(activation.alpha) * x;
    case ActivationKind::kElu:
      return x > T(0) ? x : static_cast<T>(activation.alpha) * std::expm1(x);
    case ActivationKind::kSoftplus:
      return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
    case ActivationKind::kSoftmax:
      break;
  }
  return x;
}

// d f / d x at x, given y = f(x).
template <typename T>
T derivative(const Activation& activation, T x, T y) {
  switch (activation.kind) {
    case ActivationKind::kLinear:
      return T(1);
    case ActivationKind::kRelu:
      return x > T(0) ? T(1) : T(0);
    case ActivationKind::kSigmoid:
      return y * (T(1) - y);
    case ActivationKind::kTanh:
      return T(1) - y * y;
    case ActivationKind::kGelu: {
      T cdf = T(0.5) * std::erfc(-x * T(std::numbers::sqrt2 / 2));
      T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
      return cdf + x * pdf;
    }
    case ActivationKind::kSilu: {
      T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case ActivationKind::kLeakyRelu:
      return x > T(0) ? T(1) : static_cast<T>(activation.alpha);
    case ActivationKind::kElu:
      return x > T(0) ? T(1) : y + static_cast<T>(activation.alpha);
    case ActivationKind::kSoftplus:
      return sigmoid(x);
    case ActivationKind::kSoftmax:
      break;
  }
  return T(1);
}

template <typename T>
void softmax_rows(const T* x, T* y, int64_t row_begin, int64_t row_end, int64_t columns) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const T* in = x + r * columns;
    T* out = y + r * columns;
    T max_value = in[0];
    for (int64_t j = 1; j < columns; ++j) max_value = std::max(max_value, in[j]);
    T sum = 0;
    for (int64_t j = 0; j < columns; ++j) {
      out[j] = std::exp(in[j] - max_value);
      sum += out[j];
    }
    T inverse = T(1) / sum;
    for (int64_t j = 0; j < columns; ++j) out[j] *= inverse;
  }
}

// x_grad = y * (y_grad - sum(y_grad * y)) per row.
template <typename T>
void softmax_backward_rows(const T* y, const T* y_grad, T* x_grad, bool accumulate,
                           int64_t row_begin, int64_t row_end, int64_t columns) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const T* out = y + r * columns;
    const T* out_grad = y_grad + r * columns;
    T* in_grad = x_grad + r * columns;
    T dot = 0;
    for (int64_t j = 0; j < columns; ++j) dot += out_grad[j] * out[j];
    for (int64_t j = 0; j < columns; ++j) {
      T value = out[j] * (out_grad[j] - dot);
      in_grad[j] = accumulate ? in_grad[j] + value : value;
    }
  }
}

// x_grad (+)= (x > 0) * y_grad over `count` elements. Both operands are read unconditionally
// and the pointers are locals, so the loop compiles to vector compares and masked moves
// instead of a branch per element that mispredicts on half of a ReLU's inputs.
template <typename T>
void relu_backward(const T* x, const T* y_grad, T* x_grad, int64_t count, bool accumulate) {
  if (accumulate) {
    for (int64_t i = 0; i < count; ++i) {
      T grad = y_grad[i];
      x_grad[i] += x[i] > T(0) ? grad : T(0);
    }
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    T grad = y_grad[i];
    x_grad[i] = x[i] > T(0) ? grad : T(0);
  }
}

// z_grad = f'(z) * y_grad from y = f(z) alone, for the rows [begin, end), adding each column's
// sum into `sums`. REQUIRES: derivative_from_output(activation.kind). z_grad may be y_grad.
// Three plain loops per row rather than one, so the ReLU and summing loops vectorise.
template <typename T>
void bias_activation_rows(const Activation& activation, const T* y, const T* y_grad, T* z_grad,
                          int64_t begin, int64_t end, int64_t columns, double* sums) {
  for (int64_t r = begin; r < end; ++r) {
    const T* out = y + r * columns;
    const T* out_grad = y_grad + r * columns;
    T* in_grad = z_grad + r * columns;
    if (activation.kind == ActivationKind::kRelu) {
      relu_backward(out, out_grad, in_grad, columns, false);  // y > 0 exactly where z > 0
    } else {
      for (int64_t j = 0; j < columns; ++j) {
        // y stands in for z: these derivatives read only y.
        in_grad[j] = out_grad[j] * derivative(activation, out[j], out[j]);
      }
    }
    for (int64_t j = 0; j < columns; ++j) sums[j] += static_cast<double>(in_grad[j]);
  }
}

}  // namespace

void CpuBackend::bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) {
  cpu::require_same_size("bias_add", x, out);
  int64_t columns = cpu::last_dim(x);
  if (bias.num_elements() != columns || bias.dtype() != x.dtype()) {
    throw ShapeError("bias_add: bias " + bias.to_string() + " does not match the last axis of " +
                     x.to_string());
  }
  if (x.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(2 * x.num_elements() + bias.num_elements());
    Tensor x32 = bfloat16_staging_.take("bias_add", x, true);
    Tensor bias32 = bfloat16_staging_.take("bias_add", bias, true);
    Tensor out32 = bfloat16_staging_.take("bias_add", out, false);
    bias_add(x32, bias32, out32);
    cpu::narrow_to_bfloat16(out32, out);
    return;
  }
  cpu::dispatch_float(x.dtype(), "bias_add", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    const T* b = bias.data<T>();
    T* result = out.data<T>();
    int64_t rows = cpu::row_count(x);
    cpu::for_range(rows, std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(columns, 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       for (int64_t j = 0; j < columns; ++j) {
                         result[r * columns + j] = in[r * columns + j] + b[j];
                       }
                     }
                   });
  });
}

void CpuBackend::bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                                   bool accumulate) {
  int64_t columns = cpu::last_dim(output_grad);
  if (bias_grad.num_elements() != columns || bias_grad.dtype() != output_grad.dtype()) {
    throw ShapeError("bias_add_backward: bias gradient " + bias_grad.to_string() +
                     " does not match " + output_grad.to_string());
  }
  if (output_grad.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(output_grad.num_elements() + bias_grad.num_elements());
    Tensor output_grad32 = bfloat16_staging_.take("bias_add_backward", output_grad, true);
    Tensor bias_grad32 = bfloat16_staging_.take("bias_add_backward", bias_grad, accumulate);
    bias_add_backward(output_grad32, bias_grad32, accumulate);
    cpu::narrow_to_bfloat16(bias_grad32, bias_grad);
    return;
  }
  cpu::dispatch_float(output_grad.dtype(), "bias_add_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* in = output_grad.data<T>();
    T* result = bias_grad.data<T>();
    int64_t rows = cpu::row_count(output_grad);
    if (!accumulate) std::fill(result, result + columns, T(0));
    // Serial over rows so the sum's order, and so the result, never depends on threads.
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < columns; ++j) result[j] += in[r * columns + j];
    }
  });
}

void CpuBackend::activation_forward(const Activation& activation, const Tensor& x,
                                    const Tensor& y) {
  cpu::require_same_size("activation_forward", x, y);
  if (x.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(2 * x.num_elements());
    Tensor x32 = bfloat16_staging_.take("activation_forward", x, true);
    Tensor y32 = bfloat16_staging_.take("activation_forward", y, false);
    activation_forward(activation, x32, y32);
    cpu::narrow_to_bfloat16(y32, y);
    return;
  }
  cpu::dispatch_float(x.dtype(), "activation_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    if (activation.kind == ActivationKind::kSoftmax) {
      int64_t columns = cpu::last_dim(x);
      cpu::for_range(
          cpu::row_count(x), std::max<int64_t>(1, 4096 / std::max<int64_t>(columns, 1)),
          [&](int64_t begin, int64_t end) { softmax_rows(in, out, begin, end, columns); });
      return;
    }
    cpu::for_range(x.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      if (activation.kind == ActivationKind::kRelu) {
        for (int64_t i = begin; i < end; ++i) out[i] = in[i] > T(0) ? in[i] : T(0);
        return;
      }
      for (int64_t i = begin; i < end; ++i) out[i] = forward_value(activation, in[i]);
    });
  });
}

void CpuBackend::activation_backward(const Activation& activation, const Tensor& x, const Tensor& y,
                                     const Tensor& y_grad, const Tensor& x_grad, bool accumulate) {
  cpu::require_same_size("activation_backward", x, y);
  cpu::require_same_size("activation_backward", y, y_grad);
  cpu::require_same_size("activation_backward", y_grad, x_grad);
  if (x.dtype() == DType::kBFloat16) {
    bfloat16_staging_.reserve(4 * x.num_elements());
    const char* entry = "activation_backward";
    Tensor x32 = bfloat16_staging_.take(entry, x, true);
    Tensor y32 = bfloat16_staging_.take(entry, y, true);
    Tensor y_grad32 = bfloat16_staging_.take(entry, y_grad, true);
    Tensor x_grad32 = bfloat16_staging_.take(entry, x_grad, accumulate);
    activation_backward(activation, x32, y32, y_grad32, x_grad32, accumulate);
    cpu::narrow_to_bfloat16(x_grad32, x_grad);
    return;
  }
  cpu::dispatch_float(x.dtype(), "activation_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* in = x.data<T>();
    const T* out = y.data<T>();
    const T* out_grad = y_grad.data<T>();
    T* in_grad = x_grad.data<T>();
    if (activation.kind == ActivationKind::kSoftmax) {
      int64_t columns = cpu::last_dim(x);
      cpu::for_range(cpu::row_count(x), std::max<int64_t>(1, 4096 / std::max<int64_t>(columns, 1)),
                     [&](int64_t begin, int64_t end) {
                       softmax_backward_rows(out, out_grad, in_grad, accumulate, begin, end,
                                             columns);
                     });
      return;
    }
    cpu::for_range(x.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      if (activation.kind == ActivationKind::kRelu) {
        relu_backward(in + begin, out_grad + begin, in_grad + begin, end - begin, accumulate);
        return;
      }
      for (int64_t i = begin; i < end; ++i) {
        T value = out_grad[i] * derivative(activation, in[i], out[i]);
        in_grad[i] = accumulate ? in_grad[i] + value : value;
      }
    });
  });
}

void CpuBackend::bias_activation_backward(const Activation& activation, const Tensor& y,
                                          const Tensor& y_grad, const Tensor& z_grad,
                                          const Tensor& bias_grad, bool accumulate_bias) {
  cpu::require_same_size("bias_activation_backward", y, y_grad);
  cpu::require_same_size("bias_activation_backward", y_grad, z_grad);
  if (!derivative_from_output(activation.kind)) {
    throw ValueError("bias_activation_backward: the derivative of " +
                     std::string(activation_name(activation.kind)) +
                     " needs the activation's input");
  }
  const int64_t columns = cpu::last_dim(y);
  const bool has_bias = bias_grad.defined();
  if (has_bias && (bias_grad.num_elements() != columns || bias_grad.dtype() != y.dtype())) {
    throw ShapeError("bias_activation_backward: bias gradient " + bias_grad.to_string() +
                     " does not match the last axis of " + y.to_string());
  }
  if (!has_bias) {
    activation_backward(activation, y, y, y_grad, z_grad, false);  // y stands in for z
    return;
  }
  if (y.dtype() == DType::kBFloat16) {
    // z_grad may be y_grad itself: it is written only after the float32 pass has read all.
    bfloat16_staging_.reserve(3 * y.num_elements() + columns);
    const char* entry = "bias_activation_backward";
    Tensor y32 = bfloat16_staging_.take(entry, y, true);
    Tensor y_grad32 = bfloat16_staging_.take(entry, y_grad, true);
    Tensor z_grad32 = bfloat16_staging_.take(entry, z_grad, false);
    Tensor bias_grad32 = bfloat16_staging_.take(entry, bias_grad, accumulate_bias);
    bias_activation_backward(activation, y32, y_grad32, z_grad32, bias_grad32, accumulate_bias);
    cpu::narrow_to_bfloat16(z_grad32, z_grad);
    cpu::narrow_to_bfloat16(bias_grad32, bias_grad);
    return;
  }
  cpu::dispatch_float(y.dtype(), "bias_activation_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* out = y.data<T>();
    const T* out_grad = y_grad.data<T>();
    T* in_grad = z_grad.data<T>();
    const int64_t rows = cpu::row_count(y);
    // One pass: each row's gradient is summed for the bias while it is still in cache, in
    // chunks fixed by the shape, so the bias gradient is the same bits on any thread count.
    cpu::RowChunks chunks = cpu::row_chunks(rows, columns);
    double* partial =
        reduction_scratch_.get<double>(static_cast<size_t>((chunks.count + 1) * columns));
    double* sums = partial + chunks.count * columns;
    cpu::reduce_rows(
        rows, columns, columns, partial, sums, [&](int64_t begin, int64_t end, double* slot) {
          bias_activation_rows(activation, out, out_grad, in_grad, begin, end, columns, slot);
        });
    T* bias = bias_grad.data<T>();
    for (int64_t j = 0; j < columns; ++j) {
      T sum = static_cast<T>(sums[j]);
      bias[j] = accumulate_bias ? bias[j] + sum : sum;
    }
  });
}

}  // namespace trainyard::backend
