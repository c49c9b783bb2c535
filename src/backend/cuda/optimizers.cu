// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::optimizer_update(const OptimizerStep&, const Tensor&, const Tensor&,
                                   const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::optimizer_update is not implemented yet");
}

}  // namespace trainyard::backend::cuda
