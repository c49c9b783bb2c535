// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::batch_norm_training_forward(const Tensor&, const Tensor&, const Tensor&, double,
                                              double, const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::batch_norm_training_forward is not implemented yet");
}

void CudaBackend::batch_norm_training_backward(const Tensor&, const Tensor&, double, const Tensor&,
                                               const NormGradients&) {
  throw InternalError("CudaBackend::batch_norm_training_backward is not implemented yet");
}

void CudaBackend::batch_norm_inference_forward(const Tensor&, const Tensor&, const Tensor&,
                                               const Tensor&, const Tensor&, double,
                                               const Tensor&) {
  throw InternalError("CudaBackend::batch_norm_inference_forward is not implemented yet");
}

void CudaBackend::batch_norm_inference_backward(const Tensor&, const Tensor&, const Tensor&,
                                                const Tensor&, double, const Tensor&,
                                                const NormGradients&) {
  throw InternalError("CudaBackend::batch_norm_inference_backward is not implemented yet");
}

void CudaBackend::layer_norm_forward(const Tensor&, const Tensor&, const Tensor&, double,
                                     const Tensor&) {
  throw InternalError("CudaBackend::layer_norm_forward is not implemented yet");
}

void CudaBackend::layer_norm_backward(const Tensor&, const Tensor&, double, const Tensor&,
                                      const NormGradients&) {
  throw InternalError("CudaBackend::layer_norm_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
