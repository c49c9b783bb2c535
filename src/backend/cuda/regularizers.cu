// Keras's L1 / L2 weight penalties on the GPU: l1 * sum |w| + l2 * sum w^2 summed in float64
// by a fixed grid of blocks and then in block order, so the penalty is the same bits every run.
#include <string>

#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

// Blocks of the first pass: bounded so the second pass, one block, has little to add.
constexpr int64_t kMaxPenaltyBlocks = 1024;

// The sum of `value` over the block, returned to thread 0. blockDim.x must be
// kThreadsPerBlock (a power of two).
__device__ double block_sum(double value, double* shared) {
  const unsigned int tid = threadIdx.x;
  shared[tid] = value;
  __syncthreads();
  for (unsigned int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) shared[tid] += shared[tid + stride];
    __syncthreads();
  }
  return shared[0];
}

// partial[2 * block] = sum |w|, partial[2 * block + 1] = sum w^2 over this block's elements.
template <typename T>
__global__ void penalty_partial_kernel(const T* w, int64_t count, double* partial) {
  __shared__ double shared[kThreadsPerBlock];
  double absolute = 0, squares = 0;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const double v = static_cast<double>(w[i]);
    absolute += fabs(v);
    squares += v * v;
  }
  // block_sum reads shared[0] after its last barrier; this one keeps the second call from
  // overwriting it before every thread has read the first total.
  const double absolute_total = block_sum(absolute, shared);
  __syncthreads();
  const double squares_total = block_sum(squares, shared);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = absolute_total;
    partial[2 * blockIdx.x + 1] = squares_total;
  }
}

// One block: the partials in block order, then the penalty in the weights' dtype.
template <typename T>
__global__ void penalty_total_kernel(const double* partial, int64_t blocks, double l1, double l2,
                                     T* penalty) {
  __shared__ double shared[kThreadsPerBlock];
  double absolute = 0, squares = 0;
  for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x) {
    absolute += partial[2 * b];
    squares += partial[2 * b + 1];
  }
  const double absolute_total = block_sum(absolute, shared);
  __syncthreads();
  const double squares_total = block_sum(squares, shared);
  if (threadIdx.x == 0) *penalty = static_cast<T>(l1 * absolute_total + l2 * squares_total);
}

// The upstream gradient is a device scalar, read here rather than copied to the host, so
// the entry never waits for the GPU.
template <typename T>
__global__ void penalty_backward_kernel(double l1, double l2, const T* w, const T* penalty_grad,
                                        T* grad, int64_t count, bool accumulate) {
  const T upstream = *penalty_grad;
  const T l1_scale = static_cast<T>(l1) * upstream;
  const T l2_scale = static_cast<T>(2 * l2) * upstream;
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    // sign(0) = 0, as tf.sign: a zero weight gets no L1 push.
    const T sign = w[i] > T(0) ? T(1) : (w[i] < T(0) ? T(-1) : T(0));
    const T value = l1_scale * sign + l2_scale * w[i];
    grad[i] = accumulate ? grad[i] + value : value;
  }
}

}  // namespace

void CudaBackend::regularizer_forward(double l1, double l2, const Tensor& weights,
                                      const Tensor& penalty) {
  if (penalty.num_elements() != 1 || penalty.dtype() != weights.dtype()) {
    throw ShapeError("regularizer_forward: penalty " + penalty.to_string() +
                     " must be a scalar of the dtype of " + weights.to_string());
  }
  require_here("regularizer_forward", "weights", weights);
  require_here("regularizer_forward", "penalty", penalty);
  activate();
  dispatch_float(weights.dtype(), "regularizer_forward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = weights.num_elements();
    // The grid depends on the count alone, so the order of the sums does too.
    const int64_t blocks = std::min<int64_t>(blocks_for(count), kMaxPenaltyBlocks);
    auto* partial = static_cast<double*>(
        scratch(ScratchSlot::kReduction, static_cast<size_t>(2 * blocks) * sizeof(double)));
    penalty_partial_kernel<T><<<static_cast<unsigned int>(blocks), kThreadsPerBlock, 0, stream_>>>(
        static_cast<const T*>(weights.raw_data()), count, partial);
    TY_CUDA_CHECK_LAUNCH("penalty_partial_kernel");
    penalty_total_kernel<T><<<1, kThreadsPerBlock, 0, stream_>>>(
        partial, blocks, l1, l2, static_cast<T*>(penalty.raw_data()));
    TY_CUDA_CHECK_LAUNCH("penalty_total_kernel");
  });
}

void CudaBackend::regularizer_backward(double l1, double l2, const Tensor& weights,
                                       const Tensor& penalty_grad, const Tensor& weights_grad,
                                       bool accumulate) {
  require_same_size("regularizer_backward", weights, weights_grad);
  if (penalty_grad.num_elements() != 1 || penalty_grad.dtype() != weights.dtype()) {
    throw ShapeError("regularizer_backward: penalty gradient " + penalty_grad.to_string() +
                     " must be a scalar of the dtype of " + weights.to_string());
  }
  require_here("regularizer_backward", "weights", weights);
  require_here("regularizer_backward", "penalty_grad", penalty_grad);
  require_here("regularizer_backward", "weights_grad", weights_grad);
  activate();
  dispatch_float(weights.dtype(), "regularizer_backward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t count = weights.num_elements();
    if (count == 0) return;
    penalty_backward_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        l1, l2, static_cast<const T*>(weights.raw_data()),
        static_cast<const T*>(penalty_grad.raw_data()), static_cast<T*>(weights_grad.raw_data()),
        count, accumulate);
    TY_CUDA_CHECK_LAUNCH("penalty_backward_kernel");
  });
}

}  // namespace trainyard::backend::cuda
