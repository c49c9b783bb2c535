// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::loss_forward(const Loss&, const Tensor&, const Tensor&, const Tensor&,
                               const Tensor&) {
  throw InternalError("CudaBackend::loss_forward is not implemented yet");
}

void CudaBackend::loss_backward(const Loss&, const Tensor&, const Tensor&, const Tensor&,
                                const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::loss_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
