// Bias addition, the activations and their gradients on the GPU, with the formulas of
// src/backend/cpu/activations.cpp; softmax runs one block per row. Kernels are templated on
// the stored type T and compute in compute_t<T> (float for bfloat16).
#include <string>

#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

// Rows summed by one block of the column-sum kernel: enough work per thread to hide the
// launch, few enough partials that the second pass is short.
constexpr int64_t kRowsPerChunk = 256;
constexpr unsigned int kMaxChunks = 65535;  // gridDim.y limit

// The float and double versions of the math functions, picked by overload so one template
// serves both dtypes without promoting float to double.
__device__ inline float math_exp(float x) {
  return expf(x);
}
__device__ inline double math_exp(double x) {
  return exp(x);
}
__device__ inline float math_expm1(float x) {
  return expm1f(x);
}
__device__ inline double math_expm1(double x) {
  return expm1(x);
}
__device__ inline float math_log1p(float x) {
  return log1pf(x);
}
__device__ inline double math_log1p(double x) {
  return log1p(x);
}
__device__ inline float math_tanh(float x) {
  return tanhf(x);
}
__device__ inline double math_tanh(double x) {
  return tanh(x);
}
__device__ inline float math_erfc(float x) {
  return erfcf(x);
}
__device__ inline double math_erfc(double x) {
  return erfc(x);
}
__device__ inline float math_abs(float x) {
  return fabsf(x);
}
__device__ inline double math_abs(double x) {
  return fabs(x);
}

// sqrt(2) / 2 and 1 / sqrt(2 pi), the constants of the exact GELU.
constexpr double kHalfSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename T>
__device__ T sigmoid(T x) {
  // Two branches keep exp's argument non-positive, so neither overflows.
  if (x >= T(0)) return T(1) / (T(1) + math_exp(-x));
  T e = math_exp(x);
  return e / (T(1) + e);
}

// The activation's parameters as the kernels see them: alpha already in the dtype.
template <typename T>
struct DeviceActivation {
  ActivationKind kind;
  T alpha;
};

template <typename T>
DeviceActivation<T> device_activation(const Activation& activation) {
  return {activation.kind, static_cast<T>(activation.alpha)};
}

template <typename T>
__device__ T forward_value(DeviceActivation<T> activation, T x) {
  switch (activation.kind) {
    case ActivationKind::kLinear:
      return x;
    case ActivationKind::kRelu:
      return x > T(0) ? x : T(0);
    case ActivationKind::kSigmoid:
      return sigmoid(x);
    case ActivationKind::kTanh:
      return math_tanh(x);
    case ActivationKind::kGelu:
      // erfc(-z) rather than 1 + erf(z), which cancels for negative x (as on the CPU).
      return T(0.5) * x * math_erfc(-x * T(kHalfSqrt2));
    case ActivationKind::kSilu:
      return x * sigmoid(x);
    case ActivationKind::kLeakyRelu:
      return x > T(0) ? x : activation.alpha * x;
    case ActivationKind::kElu:
      return x > T(0) ? x : activation.alpha * math_expm1(x);
    case ActivationKind::kSoftplus:
      return (x > T(0) ? x : T(0)) + math_log1p(math_exp(-math_abs(x)));
    case ActivationKind::kSoftmax:
      break;
  }
  return x;
}

// d f / d x at x, given y = f(x).
template <typename T>
__device__ T derivative(DeviceActivation<T> activation, T x, T y) {
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
      T cdf = T(0.5) * math_erfc(-x * T(kHalfSqrt2));
      T pdf = math_exp(T(-0.5) * x * x) * T(kInvSqrt2Pi);
      return cdf + x * pdf;
    }
    case ActivationKind::kSilu: {
      T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case ActivationKind::kLeakyRelu:
      return x > T(0) ? T(1) : activation.alpha;
    case ActivationKind::kElu:
      return x > T(0) ? T(1) : y + activation.alpha;
    case ActivationKind::kSoftplus:
      return sigmoid(x);
    case ActivationKind::kSoftmax:
      break;
  }
  return T(1);
}

// The reduction of `value` over the block by `op`, returned to every thread. blockDim.x
// must be kThreadsPerBlock (a power of two). Ends with a barrier, so `shared` may be reused
// by the next call at once.
template <typename T, typename Op>
__device__ T block_reduce(T value, T* shared, Op op) {
  const unsigned int tid = threadIdx.x;
  shared[tid] = value;
  __syncthreads();
  for (unsigned int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) shared[tid] = op(shared[tid], shared[tid + stride]);
    __syncthreads();
  }
  T result = shared[0];
  __syncthreads();
  return result;
}

struct MaxOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};
struct SumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

template <typename T>
__global__ void bias_add_kernel(const T* x, const T* bias, T* out, int64_t count, int64_t columns) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    out[i] = from_compute<T>(to_compute(x[i]) + to_compute(bias[i % columns]));
  }
}

// First pass of the column sums: block (column tile, chunk) sums rows
// [chunk * rows_per_chunk, ...) of its columns into partial[chunk * columns + column].
template <typename T>
__global__ void column_partial_kernel(const T* data, int64_t rows, int64_t columns,
                                      int64_t rows_per_chunk, double* partial) {
  const int64_t column = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (column >= columns) return;
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t end = begin + rows_per_chunk < rows ? begin + rows_per_chunk : rows;
  double sum = 0;
  for (int64_t r = begin; r < end; ++r) {
    sum += static_cast<double>(to_compute(data[r * columns + column]));
  }
  partial[static_cast<int64_t>(blockIdx.y) * columns + column] = sum;
}

// Second pass: the chunks' partials added in chunk order, so the bits never depend on
// scheduling.
template <typename T>
__global__ void column_total_kernel(const double* partial, int64_t chunks, int64_t columns, T* out,
                                    bool accumulate) {
  for (int64_t column = global_thread_index(); column < columns; column += grid_stride()) {
    double sum = 0;
    for (int64_t c = 0; c < chunks; ++c) sum += partial[c * columns + column];
    const compute_t<T> value = static_cast<compute_t<T>>(sum);
    out[column] = from_compute<T>(accumulate ? to_compute(out[column]) + value : value);
  }
}

// out[j] (+)= sum over rows of data[r, j], in float64, deterministically.
template <typename T>
void column_sums(CudaBackend& backend, const T* data, int64_t rows, int64_t columns, T* out,
                 bool accumulate) {
  if (columns == 0) return;
  if (rows == 0) {
    if (!accumulate) {
      TY_CUDA_CHECK(
          cudaMemsetAsync(out, 0, static_cast<size_t>(columns) * sizeof(T), backend.stream()));
    }
    return;
  }
  int64_t rows_per_chunk = kRowsPerChunk;
  if ((rows + rows_per_chunk - 1) / rows_per_chunk > kMaxChunks) {
    rows_per_chunk = (rows + kMaxChunks - 1) / kMaxChunks;
  }
  const int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  auto* partial = static_cast<double*>(backend.scratch(
      ScratchSlot::kReduction, static_cast<size_t>(chunks * columns) * sizeof(double)));
  const dim3 grid(static_cast<unsigned int>((columns + kThreadsPerBlock - 1) / kThreadsPerBlock),
                  static_cast<unsigned int>(chunks));
  column_partial_kernel<T><<<grid, kThreadsPerBlock, 0, backend.stream()>>>(
      data, rows, columns, rows_per_chunk, partial);
  TY_CUDA_CHECK_LAUNCH("column_partial_kernel");
  column_total_kernel<T><<<blocks_for(columns), kThreadsPerBlock, 0, backend.stream()>>>(
      partial, chunks, columns, out, accumulate);
  TY_CUDA_CHECK_LAUNCH("column_total_kernel");
}

template <typename T>
__global__ void activation_forward_kernel(DeviceActivation<compute_t<T>> activation, const T* x,
                                          T* y, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    y[i] = from_compute<T>(forward_value(activation, to_compute(x[i])));
  }
}

// x + bias is rounded to T before f, so the result has the bits of bias_add then
// activation_forward. No __restrict__: y may be x.
template <typename T>
__global__ void bias_activation_forward_kernel(DeviceActivation<compute_t<T>> activation,
                                               const T* x, const T* bias, T* y, int64_t count,
                                               int64_t columns) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const T z =
        bias != nullptr ? from_compute<T>(to_compute(x[i]) + to_compute(bias[i % columns])) : x[i];
    y[i] = from_compute<T>(forward_value(activation, to_compute(z)));
  }
}

// No __restrict__: x_grad may be y_grad (bias_activation_backward); each element is read
// before the same thread writes it.
template <typename T>
__global__ void activation_backward_kernel(DeviceActivation<compute_t<T>> activation, const T* x,
                                           const T* y, const T* y_grad, T* x_grad, int64_t count,
                                           bool accumulate) {
  using C = compute_t<T>;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const C grad = to_compute(y_grad[i]);
    const C input = to_compute(x[i]);
    const C value = activation.kind == ActivationKind::kRelu
                        ? (input > C(0) ? grad : C(0))
                        : grad * derivative(activation, input, to_compute(y[i]));
    x_grad[i] = from_compute<T>(accumulate ? to_compute(x_grad[i]) + value : value);
  }
}

// One block per row (striding over rows when there are more than the grid).
template <typename T>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t rows, int64_t columns) {
  using C = compute_t<T>;
  // bfloat16 output recomputes each exponential rather than rounding it twice.
  constexpr bool kStoresCompute = std::is_same_v<T, C>;
  __shared__ C shared[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* in = x + r * columns;
    T* out = y + r * columns;
    C local_max = to_compute(in[0]);
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x)
      local_max = MaxOp{}(local_max, to_compute(in[j]));
    const C max_value = block_reduce(local_max, shared, MaxOp{});
    C local_sum = 0;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      const C e = math_exp(to_compute(in[j]) - max_value);
      if constexpr (kStoresCompute) out[j] = e;
      local_sum += e;
    }
    const C inverse = C(1) / block_reduce(local_sum, shared, SumOp{});
    // Each thread rescales the elements it wrote itself, so no barrier is needed here.
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      if constexpr (kStoresCompute) {
        out[j] *= inverse;
      } else {
        out[j] = from_compute<T>(math_exp(to_compute(in[j]) - max_value) * inverse);
      }
    }
  }
}

// x_grad = y * (y_grad - sum(y_grad * y)) per row.
template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* y_grad, T* x_grad, int64_t rows,
                                        int64_t columns, bool accumulate) {
  using C = compute_t<T>;
  __shared__ C shared[kThreadsPerBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* out = y + r * columns;
    const T* out_grad = y_grad + r * columns;
    T* in_grad = x_grad + r * columns;
    C local = 0;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      local += to_compute(out_grad[j]) * to_compute(out[j]);
    }
    const C dot = block_reduce(local, shared, SumOp{});
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      const C value = to_compute(out[j]) * (to_compute(out_grad[j]) - dot);
      in_grad[j] = from_compute<T>(accumulate ? to_compute(in_grad[j]) + value : value);
    }
  }
}

unsigned int row_blocks(int64_t rows) {
  return static_cast<unsigned int>(std::clamp<int64_t>(rows, 1, 65535));
}

template <typename T>
void launch_activation_backward(CudaBackend& backend, const Activation& activation, const Tensor& x,
                                const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                                bool accumulate) {
  const int64_t count = x.num_elements();
  if (count == 0) return;
  const T* in = static_cast<const T*>(x.raw_data());
  const T* out = static_cast<const T*>(y.raw_data());
  const T* out_grad = static_cast<const T*>(y_grad.raw_data());
  T* in_grad = static_cast<T*>(x_grad.raw_data());
  if (activation.kind == ActivationKind::kSoftmax) {
    const int64_t rows = row_count(x);
    softmax_backward_kernel<T><<<row_blocks(rows), kThreadsPerBlock, 0, backend.stream()>>>(
        out, out_grad, in_grad, rows, last_dim(x), accumulate);
    TY_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
    return;
  }
  activation_backward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, backend.stream()>>>(
      device_activation<compute_t<T>>(activation), in, out, out_grad, in_grad, count, accumulate);
  TY_CUDA_CHECK_LAUNCH("activation_backward_kernel");
}

}  // namespace

void CudaBackend::bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) {
  require_same_size("bias_add", x, out);
  const int64_t columns = last_dim(x);
  if (bias.num_elements() != columns || bias.dtype() != x.dtype()) {
    throw ShapeError("bias_add: bias " + bias.to_string() + " does not match the last axis of " +
                     x.to_string());
  }
  require_here("bias_add", "x", x);
  require_here("bias_add", "bias", bias);
  require_here("bias_add", "out", out);
  activate();
  dispatch_float_or_bfloat16(x.dtype(), "bias_add", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = x.num_elements();
    if (count == 0) return;
    bias_add_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        static_cast<const T*>(x.raw_data()), static_cast<const T*>(bias.raw_data()),
        static_cast<T*>(out.raw_data()), count, columns);
    TY_CUDA_CHECK_LAUNCH("bias_add_kernel");
  });
}

void CudaBackend::bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                                    bool accumulate) {
  const int64_t columns = last_dim(output_grad);
  if (bias_grad.num_elements() != columns || bias_grad.dtype() != output_grad.dtype()) {
    throw ShapeError("bias_add_backward: bias gradient " + bias_grad.to_string() +
                     " does not match " + output_grad.to_string());
  }
  require_here("bias_add_backward", "output_grad", output_grad);
  require_here("bias_add_backward", "bias_grad", bias_grad);
  activate();
  dispatch_float_or_bfloat16(output_grad.dtype(), "bias_add_backward", [&](auto zero) {
    using T = decltype(zero);
    column_sums<T>(*this, static_cast<const T*>(output_grad.raw_data()), row_count(output_grad),
                   columns, static_cast<T*>(bias_grad.raw_data()), accumulate);
  });
}

void CudaBackend::activation_forward(const Activation& activation, const Tensor& x,
                                     const Tensor& y) {
  require_same_size("activation_forward", x, y);
  require_here("activation_forward", "x", x);
  require_here("activation_forward", "y", y);
  activate();
  dispatch_float_or_bfloat16(x.dtype(), "activation_forward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = x.num_elements();
    if (count == 0) return;
    const T* in = static_cast<const T*>(x.raw_data());
    T* out = static_cast<T*>(y.raw_data());
    if (activation.kind == ActivationKind::kSoftmax) {
      const int64_t rows = row_count(x);
      softmax_forward_kernel<T>
          <<<row_blocks(rows), kThreadsPerBlock, 0, stream_>>>(in, out, rows, last_dim(x));
      TY_CUDA_CHECK_LAUNCH("softmax_forward_kernel");
      return;
    }
    activation_forward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        device_activation<compute_t<T>>(activation), in, out, count);
    TY_CUDA_CHECK_LAUNCH("activation_forward_kernel");
  });
}

void CudaBackend::activation_backward(const Activation& activation, const Tensor& x,
                                      const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                                      bool accumulate) {
  require_same_size("activation_backward", x, y);
  require_same_size("activation_backward", y, y_grad);
  require_same_size("activation_backward", y_grad, x_grad);
  require_here("activation_backward", "x", x);
  require_here("activation_backward", "y", y);
  require_here("activation_backward", "y_grad", y_grad);
  require_here("activation_backward", "x_grad", x_grad);
  activate();
  dispatch_float_or_bfloat16(x.dtype(), "activation_backward", [&](auto zero) {
    launch_activation_backward<decltype(zero)>(*this, activation, x, y, y_grad, x_grad, accumulate);
  });
}

void CudaBackend::bias_activation_forward(const Activation& activation, const Tensor& x,
                                          const Tensor& bias, const Tensor& y) {
  const char* entry = "bias_activation_forward";
  require_same_size(entry, x, y);
  const int64_t columns = last_dim(x);
  if (bias.defined() && (bias.num_elements() != columns || bias.dtype() != x.dtype())) {
    throw ShapeError(std::string(entry) + ": bias " + bias.to_string() +
                     " does not match the last axis of " + x.to_string());
  }
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError(std::string(entry) + ": softmax is not elementwise");
  }
  require_here(entry, "x", x);
  require_here(entry, "bias", bias);
  require_here(entry, "y", y);
  activate();
  dispatch_float_or_bfloat16(x.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = x.num_elements();
    if (count == 0) return;
    bias_activation_forward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        device_activation<compute_t<T>>(activation), static_cast<const T*>(x.raw_data()),
        bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr,
        static_cast<T*>(y.raw_data()), count, columns);
    TY_CUDA_CHECK_LAUNCH("bias_activation_forward_kernel");
  });
}

void CudaBackend::bias_activation_backward(const Activation& activation, const Tensor& y,
                                           const Tensor& y_grad, const Tensor& z_grad,
                                           const Tensor& bias_grad, bool accumulate_bias) {
  require_same_size("bias_activation_backward", y, y_grad);
  require_same_size("bias_activation_backward", y_grad, z_grad);
  if (!derivative_from_output(activation.kind)) {
    throw ValueError("bias_activation_backward: the derivative of " +
                     std::string(activation_name(activation.kind)) +
                     " needs the activation's input");
  }
  const int64_t columns = last_dim(y);
  const bool has_bias = bias_grad.defined();
  if (has_bias && (bias_grad.num_elements() != columns || bias_grad.dtype() != y.dtype())) {
    throw ShapeError("bias_activation_backward: bias gradient " + bias_grad.to_string() +
                     " does not match the last axis of " + y.to_string());
  }
  require_here("bias_activation_backward", "y", y);
  require_here("bias_activation_backward", "y_grad", y_grad);
  require_here("bias_activation_backward", "z_grad", z_grad);
  require_here("bias_activation_backward", "bias_grad", bias_grad);
  activate();
  dispatch_float_or_bfloat16(y.dtype(), "bias_activation_backward", [&](auto zero) {
    using T = decltype(zero);
    // These derivatives read only y (ReLU: z > 0 exactly where y > 0), so y stands in for z.
    launch_activation_backward<T>(*this, activation, y, y, y_grad, z_grad, false);
    if (has_bias) {
      column_sums<T>(*this, static_cast<const T*>(z_grad.raw_data()), row_count(y), columns,
                     static_cast<T*>(bias_grad.raw_data()), accumulate_bias);
    }
  });
}

}  // namespace trainyard::backend::cuda
