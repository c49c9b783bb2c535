// Inverted dropout on the GPU with the CPU's counter-based mask: a device copy of
// core/random.cpp's Philox4x32-10 and uniform_from_bits, so both backends drop the same
// elements and a model trains the same on either.
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

struct PhiloxBlock {
  uint32_t word[4];
};

// philox4x32 of src/core/random.cpp, operation for operation.
__device__ PhiloxBlock philox4x32(uint64_t counter_low, uint64_t counter_high, uint64_t key) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u;
  constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u;
  constexpr uint32_t kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter_low);
  uint32_t c1 = static_cast<uint32_t>(counter_low >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_high);
  uint32_t c3 = static_cast<uint32_t>(counter_high >> 32);
  uint32_t k0 = static_cast<uint32_t>(key);
  uint32_t k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * c0;
    const uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(product0 >> 32);
    const uint32_t lo0 = static_cast<uint32_t>(product0);
    const uint32_t hi1 = static_cast<uint32_t>(product1 >> 32);
    const uint32_t lo1 = static_cast<uint32_t>(product1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// uniform_from_bits of core/random.h: the top 24 bits scaled by 2^-24, exact in float.
__device__ inline float uniform_from_bits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// Rounded products that the compiler may not fuse with the accumulation, so each value is
// the CPU's bit for bit.
__device__ inline float multiply(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ inline double multiply(double a, double b) {
  return __dmul_rn(a, b);
}

// One thread per block of four elements, which share one Philox call as on the CPU. A captured
// kernel reads its step from the device step scalars (`step_on_device`), else it is null.
template <typename T>
__global__ void dropout_kernel(uint64_t seed, uint64_t given_step, const uint64_t* step_on_device,
                               float threshold, compute_t<T> scale, const T* in, T* out,
                               int64_t count, bool accumulate) {
  using C = compute_t<T>;
  const uint64_t step = step_on_device != nullptr ? *step_on_device : given_step;
  const int64_t blocks = (count + 3) / 4;
  for (int64_t block = global_thread_index(); block < blocks; block += grid_stride()) {
    const PhiloxBlock bits = philox4x32(static_cast<uint64_t>(block), step, seed);
    for (int lane = 0; lane < 4; ++lane) {
      const int64_t i = block * 4 + lane;
      if (i >= count) break;
      const C value = uniform_from_bits(bits.word[lane]) >= threshold
                          ? multiply(to_compute(in[i]), scale)
                          : C(0);
      out[i] = from_compute<T>(accumulate ? to_compute(out[i]) + value : value);
    }
  }
}

template <typename T>
__global__ void pass_through_kernel(const T* in, T* out, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    out[i] = from_compute<T>(to_compute(out[i]) + to_compute(in[i]));
  }
}

template <typename T>
void dropout(CudaBackend& backend, double rate, uint64_t seed, uint64_t step,
             const uint64_t* step_on_device, const Tensor& input, const Tensor& output,
             bool accumulate) {
  const int64_t count = input.num_elements();
  if (count == 0) return;
  const T* in = static_cast<const T*>(input.raw_data());
  T* out = static_cast<T*>(output.raw_data());
  cudaStream_t stream = backend.stream();
  if (rate <= 0.0) {
    if (!accumulate) {
      if (in != out) {
        TY_CUDA_CHECK(cudaMemcpyAsync(out, in, output.nbytes(), cudaMemcpyDeviceToDevice, stream));
      }
      return;
    }
    pass_through_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(in, out, count);
    TY_CUDA_CHECK_LAUNCH("pass_through_kernel");
    return;
  }
  if (rate >= 1.0) {
    if (!accumulate) TY_CUDA_CHECK(cudaMemsetAsync(out, 0, output.nbytes(), stream));
    return;
  }
  const compute_t<T> scale = static_cast<compute_t<T>>(1.0 / (1.0 - rate));
  const float threshold = static_cast<float>(rate);
  dropout_kernel<T><<<blocks_for((count + 3) / 4), kThreadsPerBlock, 0, stream>>>(
      seed, step, step_on_device, threshold, scale, in, out, count, accumulate);
  TY_CUDA_CHECK_LAUNCH("dropout_kernel");
}

}  // namespace

void CudaBackend::dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                                  const Tensor& y) {
  require_same_size("dropout_forward", x, y);
  require_here("dropout_forward", "x", x);
  require_here("dropout_forward", "y", y);
  activate();
  const uint64_t* step_on_device = captured_dropout_step("dropout_forward", step);
  dispatch_float_or_bfloat16(x.dtype(), "dropout_forward", [&](auto zero) {
    dropout<decltype(zero)>(*this, rate, seed, step, step_on_device, x, y, false);
  });
}

void CudaBackend::dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                                   const Tensor& x_grad, bool accumulate) {
  require_same_size("dropout_backward", y_grad, x_grad);
  require_here("dropout_backward", "y_grad", y_grad);
  require_here("dropout_backward", "x_grad", x_grad);
  activate();
  const uint64_t* step_on_device = captured_dropout_step("dropout_backward", step);
  dispatch_float_or_bfloat16(y_grad.dtype(), "dropout_backward", [&](auto zero) {
    dropout<decltype(zero)>(*this, rate, seed, step, step_on_device, y_grad, x_grad, accumulate);
  });
}

}  // namespace trainyard::backend::cuda
