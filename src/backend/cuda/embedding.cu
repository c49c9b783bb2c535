// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::embedding_forward(const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::embedding_forward is not implemented yet");
}

void CudaBackend::embedding_backward(const Tensor&, const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::embedding_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
