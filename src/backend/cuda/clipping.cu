// Placeholder until the kernels land: each entry reports that it is missing.
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace trainyard::backend::cuda {

void CudaBackend::clip_gradients(const GradientClip&, const Tensor&,
                                 std::span<const BufferSegment>) {
  throw InternalError("CudaBackend::clip_gradients is not implemented yet");
}

}  // namespace trainyard::backend::cuda
