// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::regularizer_forward(double, double, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::regularizer_forward is not implemented yet");
}

void CudaBackend::regularizer_backward(double, double, const Tensor&, const Tensor&, const Tensor&,
                                       bool) {
  throw InternalError("CudaBackend::regularizer_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
