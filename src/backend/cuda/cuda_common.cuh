// What the kernel files share: launch shapes, dtype dispatch, checks on tensor arguments and
// the [rows, last dim] view. Included by .cu files only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "core/tensor.h"

namespace trainyard::backend::cuda {

constexpr int kThreadsPerBlock = 256;

// Blocks for a grid-stride loop over `count` elements: enough to fill the GPU, never more
// than the work needs.
inline unsigned int blocks_for(int64_t count) {
  int64_t blocks = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<unsigned int>(std::clamp<int64_t>(blocks, 1, 65536));
}

// Calls function(T{}) with T = float or double according to dtype; any other dtype is a
// ValueError naming `entry`.
template <typename Function>
void dispatch_float(DType dtype, const char* entry, Function&& function) {
  if (dtype == DType::kFloat32) {
    function(float{});
  } else if (dtype == DType::kFloat64) {
    function(double{});
  } else {
    throw ValueError(std::string(entry) +
                     ": the CUDA backend computes in float32 or float64, got " +
                     std::string(dtype_name(dtype)));
  }
}

// Like dispatch_float, and T = __nv_bfloat16 for bfloat16: for the entries that store
// bfloat16 and compute in float32 (the kernels convert with to_compute / from_compute).
template <typename Function>
void dispatch_float_or_bfloat16(DType dtype, const char* entry, Function&& function) {
  if (dtype == DType::kBFloat16) {
    function(__nv_bfloat16{});
    return;
  }
  dispatch_float(dtype, entry, function);
}

// The type a kernel computes in for stored type T: float for bfloat16, T otherwise.
template <typename T>
struct ComputeType {
  using type = T;
};
template <>
struct ComputeType<__nv_bfloat16> {
  using type = float;
};
template <typename T>
using compute_t = typename ComputeType<T>::type;

template <typename T>
__device__ inline T to_compute(T value) {
  return value;
}
__device__ inline float to_compute(__nv_bfloat16 value) {
  return __bfloat162float(value);
}
// Stores a computed value as T, rounding to nearest even for bfloat16.
template <typename T>
__device__ inline T from_compute(compute_t<T> value) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(value);
  } else {
    return value;
  }
}

// Number of rows and columns of a tensor viewed as [rows, last dim].
inline int64_t last_dim(const Tensor& tensor) {
  return tensor.shape().rank() == 0 ? 1 : tensor.shape()[-1];
}
inline int64_t row_count(const Tensor& tensor) {
  const int64_t columns = last_dim(tensor);
  return columns == 0 ? 0 : tensor.num_elements() / columns;
}

// Throws ShapeError naming `entry` unless a and b have the same element count and dtype.
inline void require_same_size(const char* entry, const Tensor& a, const Tensor& b) {
  if (a.num_elements() != b.num_elements() || a.dtype() != b.dtype()) {
    throw ShapeError(std::string(entry) + ": " + a.to_string() + " and " + b.to_string() +
                     " must have the same element count and dtype");
  }
}

// Grid-stride loop index helpers for kernels.
__device__ inline int64_t global_thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace trainyard::backend::cuda
