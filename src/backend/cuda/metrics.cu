// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::metric_update(const Metric&, const Tensor&, const Tensor&, const Tensor&) {
  throw InternalError("CudaBackend::metric_update is not implemented yet");
}

void CudaBackend::mean_update(const Tensor&, double, const Tensor&) {
  throw InternalError("CudaBackend::mean_update is not implemented yet");
}

}  // namespace trainyard::backend::cuda
