// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::matmul(const Tensor&, bool, const Tensor&, bool, const Tensor&, double, double) {
  throw InternalError("CudaBackend::matmul is not implemented yet");
}

}  // namespace trainyard::backend::cuda
