// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::conv2d_forward(const Window2d&, const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::conv2d_forward is not implemented yet");
}

void CudaBackend::conv2d_bias_activation_forward(const Window2d&, const Activation&, const Tensor&,
                                                 const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::conv2d_bias_activation_forward is not implemented yet");
}

void CudaBackend::conv2d_backward_input(const Window2d&, const Tensor&, const Tensor&,
                                        const Tensor&, bool) {
  throw InternalError("CudaBackend::conv2d_backward_input is not implemented yet");
}

void CudaBackend::conv2d_backward_kernel(const Window2d&, const Tensor&, const Tensor&,
                                         const Tensor&, bool) {
  throw InternalError("CudaBackend::conv2d_backward_kernel is not implemented yet");
}

}  // namespace trainyard::backend::cuda
