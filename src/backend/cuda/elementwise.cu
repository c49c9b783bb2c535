// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::bias_add(const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::bias_add is not implemented yet");
}

void CudaBackend::bias_add_backward(const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::bias_add_backward is not implemented yet");
}

void CudaBackend::activation_forward(const Activation&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::activation_forward is not implemented yet");
}

void CudaBackend::activation_backward(const Activation&, const Tensor&, const Tensor&,
                                      const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::activation_backward is not implemented yet");
}

void CudaBackend::bias_activation_backward(const Activation&, const Tensor&, const Tensor&,
                                           const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::bias_activation_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
