// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::pool2d_forward(PoolKind, const Window2d&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::pool2d_forward is not implemented yet");
}

void CudaBackend::pool2d_backward(PoolKind, const Window2d&, const Tensor&, const Tensor&,
                                  const Tensor&, const Tensor&, bool) {
  throw InternalError("CudaBackend::pool2d_backward is not implemented yet");
}

}  // namespace trainyard::backend::cuda
