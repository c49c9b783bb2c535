// What the kernel files share: launch shapes, dtype dispatch, checks on tensor arguments and
// the [rows, last dim] view. Included by .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

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
