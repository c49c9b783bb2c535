// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::insert_slice(const Tensor&, int64_t, int64_t, const Tensor&) {
  throw InternalError("CudaBackend::insert_slice is not implemented yet");
}

void CudaBackend::extract_slice(const Tensor&, int64_t, int64_t, const Tensor&, bool) {
  throw InternalError("CudaBackend::extract_slice is not implemented yet");
}

void CudaBackend::zero_pad2d_forward(const Padding2d&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::zero_pad2d_forward is not implemented yet");
}

void CudaBackend::zero_pad2d_backward(const Padding2d&, const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::zero_pad2d_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
