// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::dropout_forward(double, uint64_t, uint64_t, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::dropout_forward is not implemented yet");
}

void CudaBackend::dropout_backward(double, uint64_t, uint64_t, const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::dropout_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
