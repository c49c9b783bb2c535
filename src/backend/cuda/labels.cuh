// Class labels of any numeric dtype read on the device, and the check that every label is a
// class index, shared by the sparse losses and sparse accuracy (the CPU's LabelReader rules).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "core/dtype.h"
#include "core/tensor.h"

namespace trainyard::backend::cuda {

// A label tensor as kernels see it: untyped elements plus their dtype.
struct LabelView {
  const void* data = nullptr;
  DType dtype = DType::kFloat32;
};

inline LabelView label_view(const Tensor& labels) {
  return {labels.raw_data(), labels.dtype()};
}

// Label `row` as a double; NaN for a dtype labels may not have (check_labels rejects those
// before any kernel reads them).
__device__ inline double label_at(LabelView labels, int64_t row) {
  switch (labels.dtype) {
    case DType::kFloat32:
      return static_cast<const float*>(labels.data)[row];
    case DType::kFloat64:
      return static_cast<const double*>(labels.data)[row];
    case DType::kInt32:
      return static_cast<const int32_t*>(labels.data)[row];
    case DType::kInt64:
      return static_cast<double>(static_cast<const int64_t*>(labels.data)[row]);
    case DType::kUInt8:
      return static_cast<const uint8_t*>(labels.data)[row];
    default:
      return __longlong_as_double(0x7ff8000000000000LL);
  }
}

// Whether `value` is a class index in [0, classes).
__device__ inline bool is_class_index(double value, int64_t classes) {
  return value >= 0 && value < static_cast<double>(classes) && value == floor(value);
}

// Queues a check that each of the first `rows` labels is a class index in [0, classes). The
// first bad one is recorded in the backend's fault record and raised as the CPU's ValueError
// (naming `entry`, the label and its row) at the next point the host waits for the GPU, so a
// training step never stops to wait for it; kernels read an invalid label as no class.
// REQUIRES: `entry` is a string literal (the record keeps the pointer).
void check_labels(CudaBackend& backend, const char* entry, const Tensor& labels, int64_t rows,
                  int64_t classes);

}  // namespace trainyard::backend::cuda
