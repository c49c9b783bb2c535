// Helpers shared by the CPU kernel files: dtype dispatch, shape checks and the split of an
// element range across the compute pool.
#pragma once

#include <string>

#include "core/error.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace trainyard::backend::cpu {

// Elementwise loops below this many elements run on one thread: waking the other core
// costs more than it saves.
constexpr int64_t kParallelGrain = 16384;

// Calls function(T{}) with T = float or double according to dtype; other dtypes are an
// error naming `entry`.
template <typename Function>
void dispatch_float(DType dtype, const char* entry, Function&& function) {
  if (dtype == DType::kFloat32) {
    function(float{});
  } else if (dtype == DType::kFloat64) {
    function(double{});
  } else {
    throw ValueError(std::string(entry) + ": the CPU backend computes in float32 or float64, got " +
                     std::string(dtype_name(dtype)));
  }
}

// Throws ShapeError naming `entry` unless a and b have the same element count and dtype.
void require_same_size(const char* entry, const Tensor& a, const Tensor& b);
// Throws unless tensor has the given dtype.
void require_dtype(const char* entry, const Tensor& tensor, DType dtype);

// Number of rows and columns of a tensor viewed as [rows, last dim].
inline int64_t last_dim(const Tensor& tensor) {
  return tensor.shape().rank() == 0 ? 1 : tensor.shape()[-1];
}
inline int64_t row_count(const Tensor& tensor) {
  int64_t columns = last_dim(tensor);
  return columns == 0 ? 0 : tensor.num_elements() / columns;
}

// Runs body(begin, end) over [0, total) in parallel chunks of at least `grain`.
inline void for_range(int64_t total, int64_t grain, FunctionRef<void(int64_t, int64_t)> body) {
  parallel_range(total, grain, body);
}

}  // namespace trainyard::backend::cpu
