// fill and copy: the memory entries every op needs.
#include "backend/cuda/cuda_common.cuh"
#include "core/bfloat16.h"

namespace trainyard::backend::cuda {
namespace {

template <typename T>
__global__ void fill_kernel(T* out, int64_t count, T value) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) out[i] = value;
}

template <typename T>
__global__ void accumulate_kernel(const T* source, T* out, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    out[i] = from_compute<T>(to_compute(out[i]) + to_compute(source[i]));
  }
}

template <typename T>
void launch_fill(const Tensor& out, double value, cudaStream_t stream) {
  const int64_t count = out.num_elements();
  if (count == 0) return;
  fill_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream>>>(
      static_cast<T*>(out.raw_data()), count, static_cast<T>(value));
  TY_CUDA_CHECK_LAUNCH("fill_kernel");
}

}  // namespace

void CudaBackend::fill(const Tensor& out, double value) {
  require_here("fill", "out", out);
  activate();
  if (value == 0.0) {
    if (out.nbytes() > 0) TY_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), stream_));
    return;
  }
  switch (out.dtype()) {
    case DType::kFloat32:
      launch_fill<float>(out, value, stream_);
      return;
    case DType::kFloat64:
      launch_fill<double>(out, value, stream_);
      return;
    case DType::kInt32:
      launch_fill<int32_t>(out, value, stream_);
      return;
    case DType::kInt64:
      launch_fill<int64_t>(out, value, stream_);
      return;
    case DType::kUInt8:
      launch_fill<uint8_t>(out, value, stream_);
      return;
    case DType::kBFloat16:
      // The bits, rounded on the host as the CPU backend rounds them.
      launch_fill<uint16_t>(out, BFloat16(value).bits, stream_);
      return;
    default:
      throw ValueError(
          "fill: the CUDA backend fills float32, float64, bfloat16 and integer "
          "tensors, got " +
          out.to_string());
  }
}

void CudaBackend::copy(const Tensor& source, const Tensor& out, bool accumulate) {
  require_same_size("copy", source, out);
  require_here("copy", "source", source);
  require_here("copy", "out", out);
  activate();
  const int64_t count = out.num_elements();
  if (count == 0) return;
  if (!accumulate) {
    if (source.raw_data() != out.raw_data()) {
      TY_CUDA_CHECK(cudaMemcpyAsync(out.raw_data(), source.raw_data(), out.nbytes(),
                                    cudaMemcpyDeviceToDevice, stream_));
    }
    return;
  }
  dispatch_float_or_bfloat16(out.dtype(), "copy", [&](auto zero) {
    using T = decltype(zero);
    accumulate_kernel<T><<<blocks_for(count), kThreadsPerBlock, 0, stream_>>>(
        static_cast<const T*>(source.raw_data()), static_cast<T*>(out.raw_data()), count);
    TY_CUDA_CHECK_LAUNCH("accumulate_kernel");
  });
}

}  // namespace trainyard::backend::cuda
